use crate::ids::*;
use crate::store::scores::*;
use crate::{Error, Result};
use async_trait::async_trait;
use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Default)]
struct Inner {
    records: Vec<ScoreRecord>,
    by_request: HashMap<RequestId, usize>,
    outcomes: HashMap<RequestId, f64>,
    outcome_order: Vec<RequestId>,
}

/// Scores and outcomes in memory.
#[derive(Clone, Default)]
pub struct MemoryScoreStore {
    inner: Arc<RwLock<Inner>>,
}

#[async_trait]
impl ScoreStore for MemoryScoreStore {
    async fn put(&self, records: Vec<ScoreRecord>) -> Result<()> {
        let mut g = self.inner.write();
        for r in records {
            if g.by_request.contains_key(&r.request_id) {
                continue;
            }
            let i = g.records.len();
            g.by_request.insert(r.request_id.clone(), i);
            g.records.push(r);
        }
        Ok(())
    }

    async fn get(&self, request: &RequestId) -> Result<Option<ScoreRecord>> {
        let g = self.inner.read();
        Ok(g.by_request.get(request).map(|i| g.records[*i].clone()))
    }

    async fn by_run(&self, run: &RunId, offset: u64, limit: u64) -> Result<Vec<ScoreRecord>> {
        Ok(self
            .inner
            .read()
            .records
            .iter()
            .filter(|r| r.run_id.as_ref() == Some(run))
            .skip(offset as usize)
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn count_run(&self, run: &RunId) -> Result<u64> {
        Ok(self
            .inner
            .read()
            .records
            .iter()
            .filter(|r| r.run_id.as_ref() == Some(run))
            .count() as u64)
    }

    async fn latest_for_key(&self, model: &ModelId, key: &str) -> Result<Option<ScoreRecord>> {
        Ok(self
            .inner
            .read()
            .records
            .iter()
            .rev()
            .find(|r| &r.model.model == model && r.entity_key.as_deref() == Some(key))
            .cloned())
    }

    async fn put_outcome(&self, request: &RequestId, observed: f64) -> Result<()> {
        let mut g = self.inner.write();
        if !g.by_request.contains_key(request) {
            return Err(Error::not_found(format!("score of request {request}")));
        }
        if g.outcomes.contains_key(request) {
            return Err(Error::already_exists(format!(
                "outcome of request {request}"
            )));
        }
        g.outcomes.insert(request.clone(), observed);
        g.outcome_order.push(request.clone());
        Ok(())
    }

    async fn outcomes(&self, model: &ModelRef) -> Result<Vec<ScoredOutcome>> {
        let g = self.inner.read();
        Ok(g.outcome_order
            .iter()
            .filter_map(|req| {
                let r = &g.records[*g.by_request.get(req)?];
                (&r.model == model).then(|| ScoredOutcome {
                    record: r.clone(),
                    observed: g.outcomes[req],
                })
            })
            .collect())
    }
}
