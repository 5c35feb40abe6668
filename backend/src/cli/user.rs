//! `knit user add|list|role|password|remove`: accounts, from the server's own machine. The first
//! admin is made here; no account or password is built into knit.

use std::io::{BufRead, IsTerminal};
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Args, ValueEnum};
use knit_shared::{NewUser, Role};

use super::{StoreArgs, cli_actor};
use crate::accounts::Accounts;

/// `add NAME --role R` creates an account: its password is read from standard input when that is
/// not a terminal (e.g. `printf %s "$PASSWORD" | knit user add ada --role admin`), else asked
/// twice. `list`; `role NAME --role R`; `password NAME` (read as for add; signs the account out
/// everywhere); `remove NAME` (with its sessions and API tokens).
#[derive(Debug, Args)]
pub struct UserArgs {
    action: UserAction,

    /// The account's name.
    name: Option<String>,

    /// admin (everything), deployer (runs scenarios, starts and stops) or viewer (reads).
    #[arg(long)]
    role: Option<Role>,

    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum UserAction {
    Add,
    List,
    Role,
    Password,
    Remove,
}

pub async fn run(args: UserArgs) -> anyhow::Result<()> {
    let store = args.store.open().await?;
    // Sessions are not made here; their lifetime does not matter.
    let accounts = Accounts::new(store.clone(), Duration::ZERO);
    let actor = cli_actor();
    let name = || args.name.clone().context("name the account");
    let role = || {
        args.role
            .context("say which role with --role admin|deployer|viewer")
    };
    match args.action {
        UserAction::Add => {
            let (name, role) = (name()?, role()?);
            let password = read_password()?;
            let user = NewUser {
                name: name.clone(),
                role,
                password,
            };
            accounts.add_user(&actor, &user).await?;
            println!("knit: account {name} created ({role})");
        }
        UserAction::List => {
            for user in store.users().await? {
                println!("{}\t{}\t{}", user.name, user.role, user.created_at);
            }
        }
        UserAction::Role => {
            let (name, role) = (name()?, role()?);
            accounts.set_role(&actor, &name, role).await?;
            println!("knit: {name} is now {role}");
        }
        UserAction::Password => {
            let name = name()?;
            let password = read_password()?;
            accounts.set_password(&actor, &name, &password).await?;
            println!("knit: new password set for {name}; its sessions have ended");
        }
        UserAction::Remove => {
            let name = name()?;
            accounts.remove_user(&actor, &name).await?;
            println!("knit: account {name} removed");
        }
    }
    Ok(())
}

/// The password from a pipe (its first line), or typed twice without echo at a terminal.
fn read_password() -> anyhow::Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        let mut line = String::new();
        stdin
            .lock()
            .read_line(&mut line)
            .context("cannot read the password from standard input")?;
        return Ok(line.trim_end_matches(['\r', '\n']).to_owned());
    }
    let password = rpassword::prompt_password("Password: ").context("cannot read the password")?;
    let again = rpassword::prompt_password("Again: ").context("cannot read the password")?;
    if password != again {
        bail!("the two passwords differ; nothing was changed");
    }
    Ok(password)
}
