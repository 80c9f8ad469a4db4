//! 2D → 3D inflation (I3D): start a 3D network from trained 2D weights.
//!
//! The I3D paper bootstraps its 3D filters from an image network: each 2D kernel repeated along
//! time and divided by its length, so a clip of identical frames gives the 2D net's activations.
//! Here the 2D source is the I3D's own 2D twin ([`motus_models::spec::I3d::lower_2d_twin`]),
//! trained on our frames and flow fields, with the same parameter names.

use crate::net::NetError;
use motus_models::ir::{inflation_source, ParamSpec};
use std::collections::HashMap;

/// Inflates `weights2d` into weights for the 3D parameter list `params3d`: 5-D conv weights
/// `[O, I, kt, kh, kw]` = the 2D `[O, I, kh, kw]` repeated `kt` times and divided by `kt`;
/// everything else copied. Fails on a missing or misshapen 2D parameter.
pub fn inflate(
    params3d: &[ParamSpec],
    weights2d: &HashMap<String, Vec<f32>>,
) -> Result<HashMap<String, Vec<f32>>, NetError> {
    let mut out = HashMap::with_capacity(params3d.len());
    for p in params3d {
        let src = weights2d.get(&p.name).ok_or_else(|| NetError::MissingWeight(p.name.clone()))?;
        let values = match inflation_source(p) {
            Some((shape2d, kt)) => {
                let want: usize = shape2d.iter().product();
                if src.len() != want {
                    return Err(NetError::WeightShape { name: p.name.clone(), want: shape2d, got: src.len() });
                }
                let plane = shape2d[2] * shape2d[3];
                let mut v = Vec::with_capacity(want * kt);
                for kernel in src.chunks_exact(plane) {
                    for _ in 0..kt {
                        v.extend(kernel.iter().map(|w| w / kt as f32));
                    }
                }
                v
            }
            None => {
                if src.len() != p.numel() {
                    return Err(NetError::WeightShape { name: p.name.clone(), want: p.shape.clone(), got: src.len() });
                }
                src.clone()
            }
        };
        out.insert(p.name.clone(), values);
    }
    Ok(out)
}
