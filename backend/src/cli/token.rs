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

    /// How long the new token works, in days: `90d` (the default) or `30d`.
    #[arg(long, value_parser = days)]
    expires: Option<u32>,

    /// The most days a token may live, as `knit serve` is told.
    #[arg(long, env = "KNIT_TOKEN_MAX_DAYS", default_value_t = crate::accounts::TOKEN_MAX_DAYS)]
    token_max_days: u32,

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
    let accounts =
        Accounts::new(store.clone(), Duration::ZERO).with_token_max_days(args.token_max_days);
    let actor = cli_actor();
    match args.action {
        TokenAction::Create => {
            let user = args.user.context("say which account with --user NAME")?;
            let created = accounts
                .create_token(&actor, &user, &args.label, args.expires)
                .await?;
            eprintln!(
                "knit: token {} acts as {user} until {}; it is shown only now:",
                created.id, created.expires_at
            );
            println!("{}", created.token);
        }
        TokenAction::List => {
            for token in store.tokens(None).await? {
                println!(
                    "{}\t{}\t{}\t{}\t{}\texpires {}",
                    token.id,
                    token.user,
                    token.label,
                    token.created_at,
                    token.last_used_at.as_deref().unwrap_or("never used"),
                    token.expires_at
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

/// Days as `--expires` takes them: `90d`, or a bare `90`.
fn days(text: &str) -> Result<u32, String> {
    text.strip_suffix('d')
        .unwrap_or(text)
        .parse()
        .map_err(|_| format!("{text:?} is not a number of days, e.g. 90d"))
}
