use crate::ids::SplitId;
use crate::store::lineage::*;
use crate::{Error, Result};
use async_trait::async_trait;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
struct Inner {
    links: Vec<LineageLink>,
    audit: Vec<AuditRecord>,
    splits: HashMap<SplitId, SplitRecord>,
}

/// Lineage, audit and splits in memory.
#[derive(Clone, Default)]
pub struct MemoryLineageStore {
    inner: Arc<RwLock<Inner>>,
}

#[async_trait]
impl LineageStore for MemoryLineageStore {
    async fn link(&self, link: LineageLink) -> Result<()> {
        let mut g = self.inner.write();
        if !g.links.contains(&link) {
            g.links.push(link);
        }
        Ok(())
    }

    async fn upstream(&self, node: &Node) -> Result<Vec<LineageLink>> {
        Ok(self
            .inner
            .read()
            .links
            .iter()
            .filter(|l| &l.to == node)
            .cloned()
            .collect())
    }

    async fn downstream(&self, node: &Node) -> Result<Vec<LineageLink>> {
        Ok(self
            .inner
            .read()
            .links
            .iter()
            .filter(|l| &l.from == node)
            .cloned()
            .collect())
    }

    async fn audit(&self, record: AuditRecord) -> Result<()> {
        self.inner.write().audit.push(record);
        Ok(())
    }

    async fn audit_trail(&self, subject: Option<&str>) -> Result<Vec<AuditRecord>> {
        Ok(self
            .inner
            .read()
            .audit
            .iter()
            .filter(|a| subject.is_none_or(|s| a.subject == s))
            .cloned()
            .collect())
    }

    async fn put_split(&self, split: SplitRecord) -> Result<()> {
        let mut g = self.inner.write();
        if let Some(existing) = g.splits.get(&split.id) {
            if existing.train == split.train && existing.test == split.test {
                return Ok(());
            }
            return Err(Error::already_exists(format!(
                "split {} with different rows",
                split.id
            )));
        }
        g.splits.insert(split.id.clone(), split);
        Ok(())
    }

    async fn split(&self, id: &SplitId) -> Result<SplitRecord> {
        self.inner
            .read()
            .splits
            .get(id)
            .cloned()
            .ok_or_else(|| Error::not_found(format!("split {id}")))
    }
}
