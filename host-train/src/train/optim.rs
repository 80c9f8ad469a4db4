//! Optimisers written on tensors, so that their state is ours to checkpoint.
//!
//! libtorch's optimisers keep their moments out of reach of tch, so a resumed run would restart
//! momentum from zero and not continue "exactly". These are the textbook updates (PyTorch's
//! SGD with momentum and AdamW), with every moment a named tensor saved in the checkpoint.

use std::collections::HashMap;
use tch::{Device, Kind, Tensor};

/// Which update rule, with its hyper-parameters (the learning rate comes per step).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum OptimizerKind {
    /// SGD with (optionally Nesterov) momentum and coupled L2 weight decay.
    Sgd { momentum: f64, weight_decay: f64, nesterov: bool },
    /// Adam with decoupled weight decay.
    Adamw { beta1: f64, beta2: f64, eps: f64, weight_decay: f64 },
}

/// An optimiser over named parameters; its moments are keyed by parameter name.
pub struct Optimizer {
    kind: OptimizerKind,
    params: Vec<(String, Tensor)>,
    state: HashMap<String, Tensor>,
    /// Number of updates done (AdamW's bias correction; saved with the state).
    pub steps: u64,
}

/// Parameters that get no weight decay: biases and BatchNorm scales (1-D tensors).
fn decays(t: &Tensor) -> bool {
    t.dim() > 1
}

impl Optimizer {
    /// An optimiser over the trainable tensors given (shallow clones of the network's).
    pub fn new(kind: OptimizerKind, params: Vec<(String, Tensor)>) -> Self {
        Optimizer { kind, params, state: HashMap::new(), steps: 0 }
    }

    /// Clears the gradients of every parameter.
    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            let mut g = p.grad();
            if g.defined() {
                let _ = g.detach_().zero_();
            }
        }
    }

    /// Global L2 norm of all gradients, clipped to `max_norm` when given; returns the norm
    /// before clipping (a NaN here means the loss went bad).
    pub fn clip_grad_norm(&mut self, max_norm: Option<f64>) -> f64 {
        let grads: Vec<Tensor> = self.params.iter().map(|(_, p)| p.grad()).filter(|g| g.defined()).collect();
        if grads.is_empty() {
            return 0.0;
        }
        let total = tch::no_grad(|| {
            let sq: Vec<Tensor> = grads.iter().map(|g| g.pow_tensor_scalar(2).sum(Kind::Float)).collect();
            Tensor::stack(&sq, 0).sum(Kind::Float).sqrt().double_value(&[])
        });
        if let Some(max) = max_norm {
            if total.is_finite() && total > max {
                let scale = max / (total + 1e-6);
                tch::no_grad(|| {
                    for mut g in grads {
                        let _ = g.g_mul_scalar_(scale);
                    }
                });
            }
        }
        total
    }

    /// One update with learning rate `lr`.
    pub fn step(&mut self, lr: f64) {
        self.steps += 1;
        let t = self.steps as f64;
        tch::no_grad(|| {
            for (name, p) in &mut self.params {
                let g = p.grad();
                if !g.defined() {
                    continue;
                }
                match self.kind {
                    OptimizerKind::Sgd { momentum, weight_decay, nesterov } => {
                        let mut d =
                            if weight_decay > 0.0 && decays(p) { &g + &*p * weight_decay } else { g.shallow_clone() };
                        if momentum > 0.0 {
                            let key = format!("momentum/{name}");
                            let buf = match self.state.get_mut(&key) {
                                Some(buf) => {
                                    let _ = buf.g_mul_scalar_(momentum).g_add_(&d);
                                    buf.shallow_clone()
                                }
                                None => {
                                    let buf = d.copy();
                                    self.state.insert(key, buf.shallow_clone());
                                    buf
                                }
                            };
                            d = if nesterov { d + buf * momentum } else { buf };
                        }
                        let _ = p.g_sub_(&(d * lr));
                    }
                    OptimizerKind::Adamw { beta1, beta2, eps, weight_decay } => {
                        if weight_decay > 0.0 && decays(p) {
                            let _ = p.g_mul_scalar_(1.0 - lr * weight_decay);
                        }
                        let m_key = format!("adam_m/{name}");
                        let v_key = format!("adam_v/{name}");
                        if !self.state.contains_key(&m_key) {
                            self.state.insert(m_key.clone(), p.zeros_like());
                            self.state.insert(v_key.clone(), p.zeros_like());
                        }
                        let m = self.state.get_mut(&m_key).expect("inserted above");
                        let _ = m.g_mul_scalar_(beta1).g_add_(&(&g * (1.0 - beta1)));
                        let m = m.shallow_clone();
                        let v = self.state.get_mut(&v_key).expect("inserted above");
                        let _ = v.g_mul_scalar_(beta2).g_add_(&(&g * &g * (1.0 - beta2)));
                        let v = v.shallow_clone();
                        let m_hat = m / (1.0 - beta1.powf(t));
                        let v_hat = v / (1.0 - beta2.powf(t));
                        let _ = p.g_sub_(&(m_hat / (v_hat.sqrt() + eps) * lr));
                    }
                }
            }
        });
    }

    /// The moments as (name, shape, values), for the checkpoint.
    pub fn state(&self) -> HashMap<String, (Vec<usize>, Vec<f32>)> {
        self.state
            .iter()
            .map(|(k, t)| {
                let shape = t.size().iter().map(|&d| d as usize).collect();
                let flat = t.to_device(Device::Cpu).to_kind(Kind::Float).contiguous().view(-1);
                (k.clone(), (shape, Vec::<f32>::try_from(&flat).expect("f32 tensor")))
            })
            .collect()
    }

    /// Restores moments saved by [`Optimizer::state`] (only those naming a known parameter).
    pub fn load_state(&mut self, state: &HashMap<String, (Vec<usize>, Vec<f32>)>, device: Device) {
        for (k, (shape, values)) in state {
            let param = k.split_once('/').map(|(_, p)| p).unwrap_or("");
            if !self.params.iter().any(|(n, _)| n == param) {
                continue;
            }
            let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            self.state.insert(k.clone(), Tensor::from_slice(values).reshape(&dims[..]).to_device(device));
        }
    }
}
