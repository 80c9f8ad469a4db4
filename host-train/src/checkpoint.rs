//! Checkpoints: one safetensors file holding a model's weights, its card and (while training)
//! the trainer's state.
//!
//! safetensors because it is a plain, memory-mappable format that PyTorch, tch and every other
//! ecosystem read, with no code execution on load. The file carries everything `export` needs:
//!
//! - tensors named by their IR parameter names (`spatial.stem.conv.weight`, f32, IR layout);
//! - tensors named `state/…` for trainer state (optimiser moments), never exported;
//! - metadata `motus.card`: the model card (TOML; architecture spec, labels, input contract, flow);
//! - metadata `motus.train`: free-form JSON progress (epoch, step, best score, seeds).
//!
//! Writes go to a temporary file in the same folder, are fsynced and then renamed over the
//! target, so a crash or a full disk never leaves a truncated checkpoint behind.

use motus_models::ModelCard;
use safetensors::tensor::{Dtype, SafeTensors, TensorView};
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};

/// Metadata key of the model card.
const CARD_KEY: &str = "motus.card";
/// Metadata key of the trainer's progress.
const TRAIN_KEY: &str = "motus.train";
/// Metadata key of the graph variant (absent: the card's architecture itself).
const GRAPH_KEY: &str = "motus.graph";
/// Name prefix of trainer-state tensors.
const STATE_PREFIX: &str = "state/";

/// Why a checkpoint could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("cannot read checkpoint {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("cannot write checkpoint {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("checkpoint {path} is not a valid safetensors file (truncated or corrupt?): {msg}")]
    Format { path: PathBuf, msg: String },
    #[error("checkpoint {path} has no model card (metadata key {CARD_KEY:?}); it was not written by motus-train")]
    NoCard { path: PathBuf },
    #[error("checkpoint {path}: model card is invalid: {msg}")]
    Card { path: PathBuf, msg: String },
    #[error("checkpoint {path}: tensor {name:?} is {dtype:?}, expected F32")]
    Dtype { path: PathBuf, name: String, dtype: Dtype },
    #[error("checkpoint {path}: weights do not match the architecture in its card: {msg}")]
    Weights { path: PathBuf, msg: String },
}

/// Which network of the card's architecture the weights belong to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum GraphKind {
    /// The architecture itself (what is exported).
    #[default]
    Full,
    /// The 2D twin of an I3D, trained to be inflated into it; never exported.
    I3dTwin2d,
}

impl GraphKind {
    fn tag(self) -> &'static str {
        match self {
            GraphKind::Full => "full",
            GraphKind::I3dTwin2d => "i3d-2d-twin",
        }
    }
}

/// Why a card's architecture gives no graph of the asked kind.
#[derive(Debug, thiserror::Error)]
pub enum GraphError {
    #[error(transparent)]
    Spec(#[from] motus_models::SpecError),
    #[error("a 2D twin exists only for i3d, not {0}")]
    NoTwin(String),
}

/// The graph of `kind` for a card's architecture.
pub fn graph_for(card: &ModelCard, kind: GraphKind) -> Result<motus_models::Graph, GraphError> {
    match (kind, &card.arch) {
        (GraphKind::Full, arch) => Ok(arch.lower()?),
        (GraphKind::I3dTwin2d, motus_models::ArchSpec::I3d(s)) => Ok(s.lower_2d_twin()?),
        (GraphKind::I3dTwin2d, other) => Err(GraphError::NoTwin(other.name().to_string())),
    }
}

/// Why a checkpoint could not be serialised.
#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error(transparent)]
    Graph(#[from] GraphError),
    #[error("missing weight {0:?}")]
    MissingWeight(String),
    #[error("tensor {name}: {msg}")]
    Tensor { name: String, msg: String },
    #[error(transparent)]
    Card(#[from] motus_models::CardError),
    #[error("safetensors: {0}")]
    Safetensors(String),
}

/// A model with everything needed to resume training it or export it.
#[derive(Debug, Clone)]
pub struct Checkpoint {
    pub card: ModelCard,
    /// The network the weights are for (an I3D's 2D twin, or the architecture itself).
    pub graph: GraphKind,
    /// IR parameter name → values (IR layout).
    pub weights: HashMap<String, Vec<f32>>,
    /// Trainer state tensors (name without the `state/` prefix) → shape and values.
    pub state: HashMap<String, (Vec<usize>, Vec<f32>)>,
    /// Training progress (JSON object; `null` for a bare model).
    pub train: serde_json::Value,
}

fn f32_bytes(v: &[f32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

impl Checkpoint {
    /// Serialises to safetensors bytes. Tensors are written in name order so that the same
    /// checkpoint always produces the same bytes.
    pub fn to_bytes(&self) -> Result<Vec<u8>, EncodeError> {
        let graph = graph_for(&self.card, self.graph)?;
        let mut owned: BTreeMap<String, (Vec<usize>, Vec<u8>)> = BTreeMap::new();
        for p in &graph.params {
            let v = self.weights.get(&p.name).ok_or_else(|| EncodeError::MissingWeight(p.name.clone()))?;
            owned.insert(p.name.clone(), (p.shape.clone(), f32_bytes(v)));
        }
        for (k, (shape, v)) in &self.state {
            owned.insert(format!("{STATE_PREFIX}{k}"), (shape.clone(), f32_bytes(v)));
        }
        let views: Vec<(String, TensorView<'_>)> = owned
            .iter()
            .map(|(k, (shape, bytes))| {
                TensorView::new(Dtype::F32, shape.clone(), bytes)
                    .map(|v| (k.clone(), v))
                    .map_err(|e| EncodeError::Tensor { name: k.clone(), msg: format!("{e:?}") })
            })
            .collect::<Result<_, _>>()?;
        let mut meta = HashMap::new();
        meta.insert(CARD_KEY.to_string(), self.card.to_toml()?);
        meta.insert(TRAIN_KEY.to_string(), self.train.to_string());
        meta.insert(GRAPH_KEY.to_string(), self.graph.tag().to_string());
        safetensors::tensor::serialize(views, &Some(meta)).map_err(|e| EncodeError::Safetensors(format!("{e:?}")))
    }

    /// Parses safetensors bytes, checking the card and that the weights fit its architecture.
    pub fn from_bytes(bytes: &[u8], path: &Path) -> Result<Checkpoint, CheckpointError> {
        let format = |msg: String| CheckpointError::Format { path: path.to_path_buf(), msg };
        let (_, meta) = SafeTensors::read_metadata(bytes).map_err(|e| format(format!("{e:?}")))?;
        let st = SafeTensors::deserialize(bytes).map_err(|e| format(format!("{e:?}")))?;
        let meta = meta.metadata().clone().unwrap_or_default();
        let card_text = meta.get(CARD_KEY).ok_or_else(|| CheckpointError::NoCard { path: path.to_path_buf() })?;
        let card = ModelCard::from_toml(card_text)
            .map_err(|e| CheckpointError::Card { path: path.to_path_buf(), msg: e.to_string() })?;
        let train = match meta.get(TRAIN_KEY) {
            Some(t) => serde_json::from_str(t).map_err(|e| format(format!("{TRAIN_KEY}: {e}")))?,
            None => serde_json::Value::Null,
        };
        let graph_kind = match meta.get(GRAPH_KEY).map(String::as_str) {
            None | Some("full") => GraphKind::Full,
            Some("i3d-2d-twin") => GraphKind::I3dTwin2d,
            Some(other) => return Err(format(format!("{GRAPH_KEY}: unknown graph variant {other:?}"))),
        };
        let mut weights = HashMap::new();
        let mut state = HashMap::new();
        for (name, view) in st.tensors() {
            if view.dtype() != Dtype::F32 {
                return Err(CheckpointError::Dtype { path: path.to_path_buf(), name, dtype: view.dtype() });
            }
            let values: Vec<f32> =
                view.data().chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            match name.strip_prefix(STATE_PREFIX) {
                Some(k) => {
                    state.insert(k.to_string(), (view.shape().to_vec(), values));
                }
                None => {
                    weights.insert(name, values);
                }
            }
        }
        let graph = graph_for(&card, graph_kind)
            .map_err(|e| CheckpointError::Card { path: path.to_path_buf(), msg: e.to_string() })?;
        crate::net::check_weights(&graph.params, &weights)
            .map_err(|e| CheckpointError::Weights { path: path.to_path_buf(), msg: e.to_string() })?;
        Ok(Checkpoint { card, graph: graph_kind, weights, state, train })
    }

    /// The network these weights belong to.
    pub fn lower(&self) -> Result<motus_models::Graph, GraphError> {
        graph_for(&self.card, self.graph)
    }

    /// Reads and checks a checkpoint file.
    pub fn load(path: &Path) -> Result<Checkpoint, CheckpointError> {
        let bytes = std::fs::read(path).map_err(|source| CheckpointError::Read { path: path.to_path_buf(), source })?;
        Checkpoint::from_bytes(&bytes, path)
    }

    /// Writes atomically: temporary file, fsync, rename, fsync of the folder.
    pub fn save(&self, path: &Path) -> Result<(), CheckpointError> {
        let bytes =
            self.to_bytes().map_err(|e| CheckpointError::Weights { path: path.to_path_buf(), msg: e.to_string() })?;
        motus_core::atomic::write_atomic(path, &bytes)
            .map_err(|source| CheckpointError::Write { path: path.to_path_buf(), source })
    }
}
