//! The files attached to changes, stored by content: the key is the SHA-256 of the bytes,
//! so a file uploaded twice is stored once and a download proves which file it is. The
//! change events record only the digest (with name, media type and size).
//!
//! A file belongs to the contracts it was uploaded for (`attachment_uploads`): every
//! lookup names the contract, so a digest uploaded only for another contract reads
//! exactly as a digest never uploaded. Files stored before ownership was recorded went
//! to the contracts whose changes listed them (migration 0012).

use chrono::{DateTime, Utc};
use sablier_domain::ContractId;
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

    /// Stores `content` (once per digest) as a file of `contract`, and returns its
    /// description.
    pub async fn store(
        &self,
        contract: &ContractId,
        content: &[u8],
        media_type: &str,
        uploaded_by: &str,
        now: DateTime<Utc>,
    ) -> Result<StoredFile, StoreError> {
        let sha256 = hex::encode(Sha256::digest(content));
        let size_bytes =
            i64::try_from(content.len()).map_err(|_| StoreError::AttachmentTooLarge {
                size: content.len(),
            })?;
        let at = instant(now);
        let blob = "INSERT INTO attachment_blobs (sha256, media_type, size_bytes, content, uploaded_by, uploaded_at) \
                    VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (sha256) DO NOTHING";
        let upload = "INSERT INTO attachment_uploads (contract_id, sha256, uploaded_by, uploaded_at) \
                      VALUES ($1, $2, $3, $4) ON CONFLICT (contract_id, sha256) DO NOTHING";
        on_pool!(&self.database, |pool| {
            let mut transaction = pool.begin().await?;
            sqlx::query(blob)
                .bind(&sha256)
                .bind(media_type)
                .bind(size_bytes)
                .bind(content)
                .bind(uploaded_by)
                .bind(&at)
                .execute(&mut *transaction)
                .await?;
            sqlx::query(upload)
                .bind(contract.as_str())
                .bind(&sha256)
                .bind(uploaded_by)
                .bind(&at)
                .execute(&mut *transaction)
                .await?;
            transaction.commit().await?;
        });
        Ok(StoredFile {
            sha256,
            media_type: media_type.to_owned(),
            size_bytes,
        })
    }

    /// The description of a file uploaded for `contract`; `None` for a digest no file of
    /// this contract has, whether or not another contract has it.
    pub async fn describe(
        &self,
        contract: &ContractId,
        sha256: &str,
    ) -> Result<Option<StoredFile>, StoreError> {
        let sql = "SELECT blob.sha256, blob.media_type, blob.size_bytes \
                   FROM attachment_uploads AS upload \
                   JOIN attachment_blobs AS blob ON blob.sha256 = upload.sha256 \
                   WHERE upload.contract_id = $1 AND upload.sha256 = $2";
        Ok(on_pool!(&self.database, |pool| {
            sqlx::query_as(sql)
                .bind(contract.as_str())
                .bind(sha256)
                .fetch_optional(pool)
                .await?
        }))
    }

    /// The bytes of a file uploaded for `contract`.
    pub async fn content(
        &self,
        contract: &ContractId,
        sha256: &str,
    ) -> Result<Option<Vec<u8>>, StoreError> {
        let sql = "SELECT blob.content \
                   FROM attachment_uploads AS upload \
                   JOIN attachment_blobs AS blob ON blob.sha256 = upload.sha256 \
                   WHERE upload.contract_id = $1 AND upload.sha256 = $2";
        Ok(on_pool!(&self.database, |pool| {
            sqlx::query_scalar(sql)
                .bind(contract.as_str())
                .bind(sha256)
                .fetch_optional(pool)
                .await?
        }))
    }
}
