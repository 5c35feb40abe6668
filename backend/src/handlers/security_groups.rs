//! `GET /api/security-groups`: groups with their inbound rules.

use axum::Json;
use axum::extract::State;
use knit_shared::{SecurityGroupList, SecurityGroupQuery, validate};

use super::extract::Params;
use crate::app::App;
use crate::ec2::describe_security_groups;
use crate::error::ApiError;

/// Security groups with their inbound rules.
#[utoipa::path(
    get,
    path = "/api/security-groups",
    operation_id = "security_groups_list",
    tag = "ec2",
    params(knit_shared::SecurityGroupQuery),
    responses((status = 200, description = "OK", body = knit_shared::SecurityGroupList))
)]
pub async fn list(
    State(app): State<App>,
    Params(query): Params<SecurityGroupQuery>,
) -> Result<Json<SecurityGroupList>, ApiError> {
    let ids: Vec<String> = query
        .ids
        .iter()
        .flat_map(|ids| ids.split(','))
        .filter(|id| !id.is_empty())
        .map(str::to_owned)
        .collect();
    ids.iter()
        .try_for_each(|id| validate::security_group_id(id))?;
    let vpc = query.vpc_id.as_deref().filter(|id| !id.is_empty());
    vpc.map(validate::vpc_id).transpose()?;
    let hub = &app.inventory.hub;
    let scope = hub
        .resolve(query.profile.as_deref(), query.region.as_deref())
        .await?;
    let client = hub.client(&scope).await;
    let groups = describe_security_groups(&client, &hub.target(&scope), &ids, vpc).await?;
    Ok(Json(SecurityGroupList {
        region: scope.region,
        groups,
    }))
}
