//! Image references: which digest a reference (`redis:7`) resolved to when
//! last pulled. The planner compares a container's digest with this one.

use rusqlite::params;

use super::error::SqlContext;
use super::{Reader, StoreError, Writer};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageRefRecord {
    pub reference: String,
    pub digest: String,
    pub updated_at_ms: i64,
}

impl Reader<'_> {
    pub fn image_ref(&self, reference: &str) -> Result<Option<ImageRefRecord>, StoreError> {
        let mut v = self.query(
            "SELECT reference, digest, updated_at_ms FROM image_refs WHERE reference = ?1",
            reference,
            |row| {
                Ok(ImageRefRecord {
                    reference: row.get(0)?,
                    digest: row.get(1)?,
                    updated_at_ms: row.get(2)?,
                })
            },
        )?;
        Ok(v.pop())
    }

    /// References that resolve to `digest` (to tell whether an image is in use).
    pub fn references_to(&self, digest: &str) -> Result<Vec<String>, StoreError> {
        self.query(
            "SELECT reference FROM image_refs WHERE digest = ?1 ORDER BY reference",
            digest,
            |row| row.get(0),
        )
    }
}

impl Writer<'_> {
    /// Points a reference at a digest (after a pull).
    pub fn set_image_ref(&self, r: &ImageRefRecord) -> Result<(), StoreError> {
        self.tx
            .execute(
                "INSERT INTO image_refs (reference, digest, updated_at_ms) VALUES (?1, ?2, ?3) \
                 ON CONFLICT(reference) DO UPDATE SET digest = excluded.digest, \
                 updated_at_ms = excluded.updated_at_ms",
                params![r.reference, r.digest, r.updated_at_ms],
            )
            .ctx(format!("store image reference {}", r.reference))?;
        Ok(())
    }

    pub fn remove_image_ref(&self, reference: &str) -> Result<bool, StoreError> {
        let n = self
            .tx
            .execute("DELETE FROM image_refs WHERE reference = ?1", [reference])
            .ctx(format!("remove image reference {reference}"))?;
        Ok(n > 0)
    }
}
