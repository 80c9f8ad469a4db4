//! A two-stream model run tower by tower, the two towers on two threads at once.
//!
//! A two-stream net with average fusion is two independent networks (the spatial tower on
//! the RGB frame, the temporal tower on the flow stack) that meet only at the end, where the
//! fused score is the mean of the two towers' softmax. tract runs a graph node after node on
//! one thread, so the whole graph costs the sum of the towers; cut at the fusion, each tower
//! becomes a plan of its own and the window costs the slower tower, not the sum.
//!
//! The cut is found in the graph, not assumed from the architecture's name: the towers are the
//! inputs of the fusion's softmax nodes (`fusion.softmax0`, `fusion.softmax1`, as
//! motus-models exports average fusion), each must depend on exactly one graph input, and no
//! two on the same one. Any other graph (a learned fusion, a single stream, a graph from
//! another exporter) is refused with the reason, and the caller runs it whole. Because a cut
//! that computes something else would be silent, [`Towers::split`]'s caller checks the towers
//! against the whole graph on one input before using them ([`super::Classifier::split_streams`]).

use std::collections::HashMap;
use std::sync::mpsc;

use tract_onnx::prelude::*;

use super::{build_plan, InferError, InferRuntime, Plan};

/// Name of the fusion's softmax over tower `i`'s logits, in graphs motus-models exports.
fn fusion_softmax(i: usize) -> String {
    format!("fusion.softmax{i}")
}

/// One tower: the graph cut down to one input and the softmax that leaves it.
#[derive(Debug)]
struct Tower {
    /// Position of the tower's input among the whole graph's inputs (tract's order).
    graph_input: usize,
    model: InferenceModel,
    plans: HashMap<usize, Plan>,
}

/// The towers of a two-stream graph with average fusion.
#[derive(Debug)]
pub(crate) struct Towers {
    towers: Vec<Tower>,
    /// One worker per tower after the first, which runs on the caller's thread.
    workers: Vec<Worker>,
}

/// A tower's job: its plan, its input and the batch size (for errors).
type Job = (Plan, TValue, usize);

/// A thread that runs tower jobs until its [`Towers`] is dropped.
#[derive(Debug)]
struct Worker {
    /// Taken on drop: closing the channel ends the thread's loop.
    jobs: Option<mpsc::Sender<Job>>,
    results: mpsc::Receiver<Result<Vec<f32>, InferError>>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Worker {
    fn start() -> Self {
        let (jobs, job_rx) = mpsc::channel::<Job>();
        let (result_tx, results) = mpsc::channel();
        let handle = std::thread::Builder::new()
            .name("motus-tower".into())
            .spawn(move || {
                for (plan, input, batch) in job_rx {
                    if result_tx.send(run_tower(plan, input, batch)).is_err() {
                        break;
                    }
                }
            })
            .ok();
        Worker { jobs: Some(jobs), results, handle }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        drop(self.jobs.take());
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

/// Runs one tower's plan on its input: the tower's softmax, `(batch, k)` row-major.
fn run_tower(plan: Plan, input: TValue, batch: usize) -> Result<Vec<f32>, InferError> {
    let rerr = |e: TractError| InferError::Run { batch, msg: format!("{e:#}") };
    let out = plan.run(tvec![input]).map_err(rerr)?;
    let first = out.first().ok_or_else(|| InferError::Run { batch, msg: "a tower returned no output".into() })?;
    let view = first.try_as_plain_ram().map_err(rerr)?;
    Ok(view.as_slice::<f32>().map_err(rerr)?.to_vec())
}

/// Graph inputs (positions in `model.input_outlets()`) that `outlet` depends on.
fn inputs_behind(model: &InferenceModel, outlet: OutletId) -> TractResult<Vec<usize>> {
    let inputs = model.input_outlets()?.to_vec();
    let mut seen = vec![false; model.nodes().len()];
    let mut stack = vec![outlet.node];
    let mut found = Vec::new();
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut seen[n], true) {
            continue;
        }
        if let Some(i) = inputs.iter().position(|o| o.node == n) {
            found.push(i);
        }
        stack.extend(model.node(n).inputs.iter().map(|o| o.node));
    }
    found.sort_unstable();
    Ok(found)
}

/// Why a model is not run as towers side by side: it stays whole, and the reason is logged.
#[derive(Debug, thiserror::Error)]
pub enum SplitError {
    #[error("the graph has {0} input; two streams need two")]
    OneInput(usize),
    #[error("the graph has no average fusion (no fusion.softmax0 node)")]
    NoFusion,
    #[error("the fusion averages one tower")]
    OneTower,
    #[error("{towers} towers for {inputs} graph inputs")]
    TowerCount { towers: usize, inputs: usize },
    #[error("{node} depends on graph inputs {inputs:?}, not on exactly one")]
    SharedFusion { node: String, inputs: Vec<usize> },
    #[error("two fusion inputs read graph input {0}")]
    SharedInput(usize),
    #[error("tract could not cut the graph: {0}")]
    Tract(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("the whole graph failed on the check clip: {0}")]
    Whole(#[source] InferError),
    #[error("the towers failed on the check clip: {0}")]
    Towers(#[source] InferError),
    #[error("the towers' fused scores differ from the graph's by {diff} (of {values} values)")]
    Mismatch { diff: f32, values: usize },
}

/// tract's error (an `anyhow::Error`, its whole chain in the text) kept as the cause.
fn tract(e: TractError) -> SplitError {
    SplitError::Tract(format!("{e:#}").into())
}

impl Towers {
    /// Cuts `model` at its average fusion, or says why it has no such cut.
    pub fn split(model: &InferenceModel) -> Result<Self, SplitError> {
        let n_inputs = model.input_outlets().map_err(tract)?.len();
        if n_inputs < 2 {
            return Err(SplitError::OneInput(n_inputs));
        }
        let mut towers = Vec::new();
        for i in 0.. {
            let name = fusion_softmax(i);
            let Some(node) = model.nodes().iter().find(|n| n.name == name) else {
                break;
            };
            let outlet = OutletId::new(node.id, 0);
            let behind = inputs_behind(model, outlet).map_err(tract)?;
            let [graph_input] = behind[..] else {
                return Err(SplitError::SharedFusion { node: name, inputs: behind });
            };
            if towers.iter().any(|t: &Tower| t.graph_input == graph_input) {
                return Err(SplitError::SharedInput(graph_input));
            }
            let mut m = model.clone();
            let input_outlet = m.input_outlets().map_err(tract)?[graph_input];
            m.set_input_outlets(&[input_outlet]).map_err(tract)?;
            m.select_output_outlets(&[outlet]).map_err(tract)?;
            // Drop the other tower, whose nodes tract would otherwise still analyse.
            m.compact().map_err(tract)?;
            towers.push(Tower { graph_input, model: m, plans: HashMap::new() });
        }
        match towers.len() {
            0 => Err(SplitError::NoFusion),
            1 => Err(SplitError::OneTower),
            k if k != n_inputs => Err(SplitError::TowerCount { towers: k, inputs: n_inputs }),
            _ => Ok(Towers { towers, workers: Vec::new() }),
        }
    }

    /// Batch sizes every tower has a plan for.
    pub fn planned_batches(&self) -> Vec<usize> {
        let first = self.towers.first().map(|t| t.plans.keys().copied().collect::<Vec<_>>()).unwrap_or_default();
        first.into_iter().filter(|b| self.towers.iter().all(|t| t.plans.contains_key(b))).collect()
    }

    /// Drops every plan (the runtime changed).
    pub fn clear_plans(&mut self) {
        self.towers.iter_mut().for_each(|t| t.plans.clear());
    }

    /// Runs every tower on its own input (`tensors` in the whole graph's input order, with
    /// their shapes for planning), each on its own thread, and returns the fused
    /// probabilities `(batch, k)`: the mean of the towers' softmax, as the graph's fusion.
    pub fn run(
        &mut self,
        tensors: &TVec<TValue>,
        shapes: &[Vec<usize>],
        batch: usize,
        runtime: InferRuntime,
        source: &str,
    ) -> Result<Vec<f32>, InferError> {
        let mut jobs = Vec::with_capacity(self.towers.len());
        for t in &mut self.towers {
            let plan = match t.plans.get(&batch) {
                Some(p) => p.clone(),
                None => {
                    let p = build_plan(&t.model, &[shapes[t.graph_input].clone()], runtime, source, batch)?;
                    t.plans.insert(batch, p.clone());
                    p
                }
            };
            jobs.push((plan, tensors[t.graph_input].clone()));
        }
        let mut jobs = jobs.into_iter();
        let first = jobs.next().expect("split keeps two towers or more");
        // The other towers go to long-lived workers (one thread each, started on first use):
        // a thread started per window would cost its start-up every window and churn memory.
        while self.workers.len() < self.towers.len() - 1 {
            self.workers.push(Worker::start());
        }
        let stopped = || InferError::Run { batch, msg: "a tower's thread has stopped".into() };
        // Every job handed to a worker has its result received below, even when another
        // tower fails, so no stale result is left for the next window.
        let sent: Vec<bool> = self
            .workers
            .iter()
            .zip(jobs)
            .map(|(w, (plan, input))| w.jobs.as_ref().is_some_and(|tx| tx.send((plan, input, batch)).is_ok()))
            .collect();
        let mut results = vec![run_tower(first.0, first.1, batch)];
        for (w, sent) in self.workers.iter().zip(sent) {
            results.push(if sent { w.results.recv().unwrap_or_else(|_| Err(stopped())) } else { Err(stopped()) });
        }
        let mut fused: Vec<f32> = Vec::new();
        for r in results {
            let p = r?;
            if fused.is_empty() {
                fused = p;
            } else if p.len() != fused.len() {
                return Err(InferError::Run {
                    batch,
                    msg: format!("towers returned {} and {} scores", fused.len(), p.len()),
                });
            } else {
                fused.iter_mut().zip(&p).for_each(|(f, x)| *f += x);
            }
        }
        let n = self.towers.len() as f32;
        fused.iter_mut().for_each(|f| *f /= n);
        Ok(fused)
    }
}
