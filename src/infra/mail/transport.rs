//! Where messages go: SMTP (production), `.eml` files (the embedded default), or memory
//! (tests).

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::{Message, SmtpTransport, Transport as _};

use crate::infra::config::{MailSettings, MailTransport, SmtpTls};
use crate::infra::models::OutboxMessage;

/// A message as the memory transport keeps it.
#[derive(Debug, Clone)]
pub struct Captured {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Clone)]
pub enum Transport {
    Smtp(Box<SmtpTransport>),
    File(PathBuf),
    Memory(Arc<Mutex<Vec<Captured>>>),
}

impl std::fmt::Debug for Transport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Smtp(_) => f.write_str("Transport::Smtp"),
            Self::File(dir) => write!(f, "Transport::File({})", dir.display()),
            Self::Memory(_) => f.write_str("Transport::Memory"),
        }
    }
}

impl Transport {
    /// Builds the configured transport.
    pub fn from_settings(settings: &MailSettings) -> anyhow::Result<Self> {
        match settings.transport {
            MailTransport::File => Ok(Self::File(settings.dir.clone())),
            MailTransport::Smtp => {
                let smtp = settings
                    .smtp
                    .as_ref()
                    .context("SAMSKAP_SMTP_HOST: required for SMTP")?;
                let tls_params = || {
                    TlsParameters::new(smtp.host.clone())
                        .context("SAMSKAP_SMTP_HOST: invalid TLS server name")
                };
                let tls = match smtp.tls {
                    SmtpTls::None => Tls::None,
                    SmtpTls::StartTls => Tls::Required(tls_params()?),
                    SmtpTls::Tls => Tls::Wrapper(tls_params()?),
                };
                let mut builder = SmtpTransport::builder_dangerous(&smtp.host)
                    .port(smtp.port)
                    .tls(tls)
                    .timeout(Some(std::time::Duration::from_secs(20)));
                if let (Some(user), Some(password)) = (&smtp.username, &smtp.password) {
                    builder = builder
                        .credentials(Credentials::new(user.clone(), password.expose().to_owned()));
                }
                Ok(Self::Smtp(Box::new(builder.build())))
            }
        }
    }

    /// Sends one outbox message; the failure's text is stored as the message's last error.
    pub fn send(&self, from: &str, message: &OutboxMessage) -> Result<(), SendFailure> {
        if let Self::Memory(store) = self {
            store
                .lock()
                .map_err(|_| SendFailure::transient("memory transport poisoned".to_owned()))?
                .push(Captured {
                    to: message.to_address.clone(),
                    subject: message.subject.clone(),
                    text: message.body_text.clone(),
                });
            return Ok(());
        }
        // A message that cannot be built (a malformed address) will never go: permanent.
        let email = build(from, message).map_err(|e| SendFailure {
            message: format!("{e:#}"),
            permanent: true,
        })?;
        match self {
            Self::Smtp(smtp) => smtp.send(&email).map(drop).map_err(|e| SendFailure {
                // A 5xx reply (550 no such mailbox) is final: retrying cannot help.
                permanent: e.is_permanent(),
                message: format!("SMTP: {e}"),
            }),
            Self::File(dir) => {
                std::fs::create_dir_all(dir)
                    .map_err(|e| SendFailure::transient(format!("{}: {e}", dir.display())))?;
                // Written beside and renamed, so whatever watches the folder never sees half a message.
                let path = dir.join(format!("{:08}-{}.eml", message.id, message.kind));
                let partial = dir.join(format!(".{:08}-{}.eml.partial", message.id, message.kind));
                std::fs::write(&partial, email.formatted())
                    .and_then(|()| std::fs::rename(&partial, &path))
                    .map_err(|e| SendFailure::transient(format!("{}: {e}", path.display())))
            }
            Self::Memory(_) => Ok(()),
        }
    }
}

/// Why a message was not sent, and whether trying again could help.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SendFailure {
    pub message: String,
    /// The server refused for good (SMTP 5xx) or the message cannot be built.
    pub permanent: bool,
}

impl SendFailure {
    fn transient(message: String) -> Self {
        Self {
            message,
            permanent: false,
        }
    }
}

fn build(from: &str, m: &OutboxMessage) -> anyhow::Result<Message> {
    let from: Mailbox = from
        .parse()
        .context("SAMSKAP_MAIL_FROM is not a valid address")?;
    let to: Mailbox = m
        .to_address
        .parse()
        .with_context(|| format!("recipient {:?} is not a valid address", m.to_address))?;
    Message::builder()
        .from(from)
        .to(to)
        .subject(m.subject.clone())
        .message_id(Some(format!("<outbox-{}@samskap>", m.id)))
        .multipart(MultiPart::alternative_plain_html(
            m.body_text.clone(),
            m.body_html.clone(),
        ))
        .map_err(Into::into)
}
