//! Calibration: the float model runs in tract on the calibration clips with every value the
//! quantizer needs exposed as an extra output ([`motus_quant::tap_outputs`]), and each value's
//! observer sees it clip by clip.

use std::collections::HashMap;

use motus_models::onnx::proto::ModelProto;
use motus_models::ModelCard;
use motus_quant::{Analysis, Calibration, ObserverKind};
use prost::Message;
use tract_onnx::prelude::*;

use super::clips::Clip;
use super::QuantRunError;

/// Checks every clip carries exactly the card's inputs with the card's shapes at batch 1, so a
/// calibration set made for another model (other size, clip length or flow stack) is refused
/// before anything runs, naming the clip and the input.
pub fn check_clips(card: &ModelCard, clips: &[Clip], what: &str) -> Result<(), QuantRunError> {
    if clips.is_empty() {
        return Err(QuantRunError::EmptySet(what.to_string()));
    }
    for (k, c) in clips.iter().enumerate() {
        for d in &card.inputs {
            let Some(t) = c.inputs.iter().find(|t| t.name == d.name) else {
                return Err(QuantRunError::Shape {
                    what: what.into(),
                    clip: k,
                    input: d.name.clone(),
                    got: None,
                    expected: d.shape.clone(),
                });
            };
            let fits = t.shape.len() == d.shape.len()
                && t.shape[0] == 1
                && t.shape[1..].iter().zip(&d.shape[1..]).all(|(&a, &b)| a as i64 == b)
                && t.data.len() == t.shape.iter().product::<usize>();
            if !fits {
                return Err(QuantRunError::Shape {
                    what: what.into(),
                    clip: k,
                    input: d.name.clone(),
                    got: Some(t.shape.clone()),
                    expected: d.shape.clone(),
                });
            }
        }
        if let Some(extra) = c.inputs.iter().find(|t| !card.inputs.iter().any(|d| d.name == t.name)) {
            return Err(QuantRunError::Shape {
                what: what.into(),
                clip: k,
                input: extra.name.clone(),
                got: Some(extra.shape.clone()),
                expected: vec![],
            });
        }
    }
    Ok(())
}

/// Runs `float` with the analysis' calibration values tapped over `clips` and returns each
/// value's range under `kind`.
pub fn calibrate(
    float: &ModelProto,
    card: &ModelCard,
    analysis: &Analysis,
    clips: &[Clip],
    kind: ObserverKind,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<HashMap<String, (f32, f32)>, QuantRunError> {
    check_clips(card, clips, "calibration")?;
    let values = analysis.calibration_values();
    let tap = motus_quant::tap_outputs(float, &values);
    let out_names: Vec<String> =
        tap.graph.as_ref().map(|g| g.output.iter().map(|o| o.name.clone()).collect()).unwrap_or_default();
    let index: Vec<usize> =
        values.iter().map(|v| out_names.iter().position(|o| o == v).expect("tap_outputs adds every value")).collect();
    let bytes = tap.encode_to_vec();
    let terr = |e: TractError| QuantRunError::Tract(format!("calibration model: {e:#}"));
    let mut model = tract_onnx::onnx().model_for_read(&mut &bytes[..]).map_err(terr)?;
    let mut order = Vec::new();
    for (i, outlet) in model.input_outlets().map_err(terr)?.to_vec().into_iter().enumerate() {
        let name = model.node(outlet.node).name.clone();
        let d = card
            .inputs
            .iter()
            .find(|d| d.name == name)
            .ok_or_else(|| QuantRunError::Tract(format!("graph input {name:?} is not in the card")))?;
        let shape: Vec<usize> = std::iter::once(1).chain(d.shape[1..].iter().map(|&x| x as usize)).collect();
        model.set_input_fact(i, f32::fact(&shape).into()).map_err(terr)?;
        order.push(name);
    }
    let plan = model.into_optimized().map_err(terr)?.into_runnable().map_err(terr)?;
    let mut calib = Calibration::new(values.clone(), kind);
    for (k, c) in clips.iter().enumerate() {
        let mut inputs = TVec::new();
        for name in &order {
            let t = c.inputs.iter().find(|t| &t.name == name).expect("checked above");
            inputs.push(Tensor::from_shape(&t.shape, &t.data).map_err(terr)?.into());
        }
        let outs = plan.run(inputs).map_err(|e| QuantRunError::Tract(format!("calibration clip {k}: {e:#}")))?;
        let mut slices = Vec::with_capacity(index.len());
        for (&i, v) in index.iter().zip(&values) {
            let t = outs
                .get(i)
                .ok_or_else(|| QuantRunError::Tract(format!("calibration model returned no value for {v:?}")))?;
            let t = t.cast_to::<f32>().map_err(terr)?;
            let view = t.try_as_plain_ram().map_err(terr)?;
            slices.push(view.as_slice::<f32>().map_err(terr)?.to_vec());
        }
        calib.observe(slices.iter().map(Vec::as_slice)).map_err(QuantRunError::Calibration)?;
        progress(k + 1, clips.len());
    }
    calib.ranges().map_err(QuantRunError::Calibration)
}
