//! `user add|passwd|list`: accounts.

use std::process::ExitCode;

use anyhow::Context as _;

use crate::cli::UserCommand;
use crate::infra::config::Settings;

use super::open;

pub(super) fn user(settings: &Settings, action: UserCommand) -> anyhow::Result<ExitCode> {
    use crate::app::accounts::{self, ScopeSpec};
    use crate::app::audit::Actor;
    use crate::core::domain::UserRole;
    use crate::infra::models::{User, UserScope};

    match action {
        UserCommand::Add {
            email,
            role,
            name,
            scopes,
            password_stdin,
        } => {
            let role = UserRole::from(role);
            let specs = scopes
                .iter()
                .map(|s| ScopeSpec::parse(s).map_err(|e| anyhow::anyhow!("--scope {e}")))
                .collect::<anyhow::Result<Vec<_>>>()?;
            let (password, generated) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (accounts::generate_password(), true)
            };
            let mut conn = open(settings)?;
            let user = accounts::add_account(
                &mut conn,
                &Actor::cli(),
                &accounts::NewAccount {
                    email: &email,
                    display_name: &name,
                    role,
                    password: &password,
                    scopes: &specs,
                },
            )?;
            println!("Created {} ({}).", user.email, user.role);
            if generated {
                println!("Password (shown once): {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::Passwd {
            email,
            password_stdin,
        } => {
            let (password, generated) = if password_stdin {
                (read_password_stdin()?, false)
            } else {
                (accounts::generate_password(), true)
            };
            let email =
                accounts::normalise_email(&email).map_err(|e| anyhow::anyhow!("--email: {e}"))?;
            let mut conn = open(settings)?;
            let user = User::find_by_email(&mut conn, &email)?
                .with_context(|| format!("--email: no account for {email}"))?;
            accounts::replace_password(
                &mut conn,
                &Actor::cli(),
                &user.id,
                &password,
                accounts::SetBy::Cli,
            )?;
            println!("New password set for {email}; their sessions have ended.");
            if generated {
                println!("Password (shown once): {password}");
            }
            Ok(ExitCode::SUCCESS)
        }
        UserCommand::List => {
            let mut conn = open(settings)?;
            for user in User::all(&mut conn)? {
                let scopes = UserScope::for_user(&mut conn, &user.id)?
                    .iter()
                    .map(|s| accounts::describe_scope(&mut conn, s))
                    .collect::<Result<Vec<_>, _>>()?;
                let status = if user.active { "active" } else { "disabled" };
                println!(
                    "{:<32} {:<12} {status:<8} {}",
                    user.email,
                    user.role.as_str(),
                    scopes.join("; ")
                );
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub(super) fn read_password_stdin() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .read_line(&mut line)
        .context("could not read the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}
