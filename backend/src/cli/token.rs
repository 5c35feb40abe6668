//! `knit token create|list|revoke`: API tokens for scripts and CI, which act as an account.

use std::time::Duration;

use anyhow::Context;
use clap::{Args, ValueEnum};

use super::{StoreArgs, cli_actor};
use crate::accounts::Accounts;

/// `create --user NAME [--label TEXT]` prints a new token once (knit keeps only its hash);
/// `list` shows the tokens, never their secrets; `revoke ID` ends one.
#[derive(Debug, Args)]
pub struct TokenArgs {
    action: TokenAction,

    /// The token to revoke, as `list` shows it.
    id: Option<i64>,

    /// The account the new token acts as.
    #[arg(long)]
    user: Option<String>,

    /// What the new token is for.
    #[arg(long, default_value = "created on the command line")]
    label: String,

    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum TokenAction {
    Create,
    List,
    Revoke,
}

pub async fn run(args: TokenArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    let accounts = Accounts::new(store.clone(), Duration::ZERO);
    let actor = cli_actor();
    match args.action {
        TokenAction::Create => {
            let user = args.user.context("say which account with --user NAME")?;
            let created = accounts.create_token(&actor, &user, &args.label).await?;
            eprintln!(
                "knit: token {} acts as {user}; it is shown only now:",
                created.id
            );
            println!("{}", created.token);
        }
        TokenAction::List => {
            for token in store.tokens(None).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}",
                    token.id,
                    token.user,
                    token.label,
                    token.created_at,
                    token.last_used_at.as_deref().unwrap_or("never used")
                );
            }
        }
        TokenAction::Revoke => {
            let id = args.id.context("name the token: knit token revoke ID")?;
            accounts.revoke_token(&actor, None, id).await?;
            println!("knit: token {id} revoked");
        }
    }
    Ok(())
}
