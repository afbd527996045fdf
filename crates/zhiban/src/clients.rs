//! Credentials of other systems, from the command line: OpenID Connect
//! relying parties and Open311 API keys. Each secret is printed once.

use anyhow::{Result, bail};
use clap::Subcommand;
use zhiban_domain::{Db, DomainError};

#[derive(Subcommand)]
pub enum OidcWhat {
    /// Register a relying party; prints its client_id (and client_secret,
    /// shown only this once).
    AddClient {
        #[arg(long)]
        name: String,
        /// Exact redirect URI (repeat for several).
        #[arg(long = "redirect-uri", required = true)]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return (repeatable).
        #[arg(long = "post-logout-uri")]
        post_logout_uris: Vec<String>,
        /// A public client (PKCE only, no secret).
        #[arg(long)]
        public: bool,
        /// Real-name level a person needs (1–3).
        #[arg(long, default_value_t = 1)]
        min_level: i64,
    },
}

#[derive(Subcommand)]
pub enum Open311What {
    /// Issue an API key to a named client; prints `api_key=…` (shown only
    /// this once).
    AddKey {
        #[arg(long)]
        name: String,
    },
}

fn refused(e: DomainError, what: &str) -> Result<()> {
    match e {
        DomainError::Invalid(errs) => {
            for e in errs {
                eprintln!("{}", e.message_zh());
            }
            bail!("{what}")
        }
        e => Err(e.into()),
    }
}

pub async fn oidc(db: &Db, what: OidcWhat) -> Result<()> {
    let OidcWhat::AddClient {
        name,
        redirect_uris,
        post_logout_uris,
        public,
        min_level,
    } = what;
    let input = zhiban_domain::identity::oidc::ClientInput {
        name,
        redirect_uris: redirect_uris.join("\n"),
        post_logout_uris: post_logout_uris.join("\n"),
        confidential: !public,
        min_level,
    };
    match zhiban_domain::identity::oidc::register_client(db, "zhiban oidc add-client", &input).await
    {
        Ok((id, secret)) => {
            println!("client_id={id}");
            if let Some(s) = secret {
                println!("client_secret={s}");
            }
            Ok(())
        }
        Err(e) => refused(e, "client not registered"),
    }
}

pub async fn open311(db: &Db, what: Open311What) -> Result<()> {
    let Open311What::AddKey { name } = what;
    match zhiban_domain::requests::open311::issue_key(db, "zhiban open311 add-key", &name).await {
        Ok((_, secret)) => {
            println!("api_key={secret}");
            Ok(())
        }
        Err(e) => refused(e, "key not issued"),
    }
}
