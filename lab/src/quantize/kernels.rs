//! Which matrix-product kernels tract picked for a model: the honest answer to "did the int8
//! model run int8 code?" (tract names its kernels by element type, e.g. `avx2_mmm_i32_8x8` or
//! `avx512vnni_mmm_i32_16x16` for int8 products accumulated in i32, `…_f32_…` for float).

use std::collections::BTreeSet;

use motus_models::ModelCard;
use tract_onnx::prelude::*;

use super::QuantRunError;

/// The optimised batch-1 plan of the model in `bytes`.
pub fn optimized(bytes: &[u8], card: &ModelCard) -> Result<TypedModel, QuantRunError> {
    let terr = |e: TractError| QuantRunError::Tract(format!("{e:#}"));
    let mut model = tract_onnx::onnx().model_for_read(&mut &bytes[..]).map_err(terr)?;
    for (i, outlet) in model.input_outlets().map_err(terr)?.to_vec().into_iter().enumerate() {
        let name = model.node(outlet.node).name.clone();
        let d = card
            .inputs
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| QuantRunError::Tract(format!("graph input {name:?} is not in the card")))?;
        let shape: Vec<usize> = std::iter::once(1).chain(d.shape[1..].iter().map(|&x| x as usize)).collect();
        model.set_input_fact(i, f32::fact(&shape).into()).map_err(terr)?;
    }
    model.into_optimized().map_err(terr)
}

/// The distinct kernel descriptions of every matrix product in the optimised plan.
pub fn plan_kernels(bytes: &[u8], card: &ModelCard) -> Result<Vec<String>, QuantRunError> {
    let model = optimized(bytes, card)?;
    let mut out = BTreeSet::new();
    for node in model.nodes() {
        if node.op.name() != "OptMatMul" {
            continue;
        }
        for line in node.op.info().unwrap_or_default() {
            if let Some(rest) = line.strip_prefix("Mult: ") {
                let k = rest.rsplit_once(" with ").map(|(_, k)| k).unwrap_or(rest);
                out.insert(k.trim().to_string());
            }
        }
    }
    Ok(out.into_iter().collect())
}
