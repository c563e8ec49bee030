//! The files attached to changes, stored by content: the key is the SHA-256 of the bytes,
//! so a file uploaded twice is stored once and a download proves which file it is. The
//! change events record only the digest (with name, media type and size).

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use crate::access::instant;
use crate::database::{Database, on_pool};
use crate::error::StoreError;

/// A stored file's description.
#[derive(Clone, Debug, PartialEq, Eq, sqlx::FromRow)]
pub struct StoredFile {
    pub sha256: String,
    pub media_type: String,
    pub size_bytes: i64,
}

#[derive(Clone, Debug)]
pub struct Attachments {
    database: Database,
}

impl Attachments {
    pub fn new(database: Database) -> Self {
        Self { database }
    }

    /// Stores `content` (once per digest) and returns its description.
    pub async fn store(
        &self,
        content: &[u8],
        media_type: &str,
        uploaded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredFile, StoreError> {
        let sha256 = hex::encode(Sha256::digest(content));
        let size_bytes = i64::try_from(content.len())
            .map_err(|_| StoreError::Unexpected("attachment too large".to_owned()))?;
        let at = instant(now);
        let sql = "INSERT INTO attachment_blobs (sha256, media_type, size_bytes, content, uploaded_by, uploaded_at) \
                   VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING";
        on_pool!(&self.database, |pool| {
            sqlx::query(sql)
                .bind(&sha256)
                .bind(media_type)
                .bind(size_bytes)
                .bind(content)
                .bind(uploaded_by)
                .bind(&at)
                .execute(pool)
                .await?;
        });
        Ok(StoredFile {
            sha256,
            media_type: media_type.to_owned(),
            size_bytes,
        })
    }

    /// The description of a stored file.
    pub async fn describe(&self, sha256: &str) -> Result<Option<StoredFile>, StoreError> {
        let sql = "SELECT sha256, media_type, size_bytes FROM attachment_blobs WHERE sha256 = $1";
        Ok(on_pool!(&self.database, |pool| {
            sqlx::query_as(sql)
                .bind(sha256)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The bytes of a stored file.
    pub async fn content(&self, sha256: &str) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = "SELECT content FROM attachment_blobs WHERE sha256 = $1";
        Ok(on_pool!(&self.database, |pool| {
            sqlx::query_scalar(sql)
                .bind(sha256)
                .fetch_optional(pool)
                .await?
        }))
    }
}
