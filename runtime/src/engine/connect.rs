//! Model groups connected for a run: the workflow's groups with the run's
//! replacements, each `provider:model` connected once per runtime and shared
//! (with its circuit breaker) by every run of it.

use super::StartError;
use super::start::Connected;
use crate::model::breaker::{Breaker, BreakerSettings};
use crate::model::connect;
use crate::program::Program;
use flow_graph::Node;
use std::collections::HashMap;
use std::sync::Arc;

/// Connects every model group the graph uses, with the run's replacements.
pub(super) fn connect_models(
    program: &Program,
    options: &super::RunOptions,
    cache: &std::sync::Mutex<HashMap<String, Connected>>,
    breaker: BreakerSettings,
) -> Result<HashMap<String, Vec<Connected>>, StartError> {
    if let Some(unknown) = options.models.keys().find(|g| !program.graph.models.contains_key(*g)) {
        return Err(StartError::UnknownModelGroup {
            group: unknown.clone(),
            known: program.graph.models.keys().cloned().collect(),
        });
    }
    let mut used: Vec<&String> = program.graph.workflow.default_model.iter().collect();
    for node in &program.graph.nodes {
        match node {
            Node::Agent(a) => used.extend(a.model.iter()),
            Node::Route(r) => used.extend(r.model.iter()),
            _ => {}
        }
    }
    let mut out = HashMap::new();
    for group in used {
        if out.contains_key(group) {
            continue;
        }
        let specs: Vec<(String, String)> = match options.models.get(group) {
            Some(s) => {
                let (p, m) = s.split_once(':').ok_or_else(|| StartError::BadModelSpec {
                    group: group.clone(),
                    spec: s.clone(),
                })?;
                vec![(p.to_string(), m.to_string())]
            }
            None => program
                .graph
                .models
                .get(group)
                .map(|ms| ms.iter().map(|m| (m.provider.clone(), m.model.clone())).collect())
                .unwrap_or_default(),
        };
        let mut models = Vec::new();
        for (provider, model) in specs {
            let key = format!("{provider}:{model}");
            let cached = cache.lock().ok().and_then(|c| c.get(&key).cloned());
            let m = match cached {
                Some(m) => m,
                None => {
                    let m = connect(&provider, &model).map_err(|e| StartError::ModelUnavailable {
                        group: group.clone(),
                        spec: key.clone(),
                        reason: e.to_string(),
                    })?;
                    let m = Connected {
                        model: m,
                        breaker: Arc::new(Breaker::new(breaker)),
                    };
                    if let Ok(mut c) = cache.lock() {
                        c.insert(key, m.clone());
                    }
                    m
                }
            };
            models.push(m);
        }
        out.insert(group.clone(), models);
    }
    Ok(out)
}
