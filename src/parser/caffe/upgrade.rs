//! Brings any Caffe net to one form: V2 `LayerParameter`s (legacy V1 `layers {}` with enum types are
//! upgraded as Caffe's `UpgradeV1Net` does), the legacy `input:` blobs listed with their shapes, and
//! only the layers that Caffe's TEST phase keeps.

use super::proto::{
    LayerParameter, NetParameter, NetStateRule, Phase, V1LayerParameter,
    v1_layer_parameter::LayerType,
};
use crate::error::{Error, Result};

/// A net in current form.
pub(super) struct Net {
    /// Legacy `input:` blobs with their full (batch-first) dimensions.
    pub inputs: Vec<(String, Vec<i64>)>,
    pub layers: Vec<LayerParameter>,
}

/// Upgrades `net`; `file` names it in errors. Layers are moved, not copied (models hold the weights).
pub(super) fn upgrade(mut net: NetParameter, file: &str) -> Result<Net> {
    let inputs = legacy_inputs(&net, file)?;
    if !net.layer.is_empty() && !net.layers.is_empty() {
        crate::bail!(
            Format,
            "{file}: the net mixes V2 'layer' and legacy V1 'layers' entries"
        );
    }
    let mut layers = std::mem::take(&mut net.layer);
    for v1 in std::mem::take(&mut net.layers) {
        layers.push(upgrade_v1(v1, file)?);
    }
    Ok(Net { inputs, layers })
}

/// `input:` with either `input_shape` (one per input) or four `input_dim` values per input.
fn legacy_inputs(net: &NetParameter, file: &str) -> Result<Vec<(String, Vec<i64>)>> {
    let n = net.input.len();
    let shapes: Vec<Vec<i64>> = if !net.input_shape.is_empty() {
        if net.input_shape.len() != n {
            crate::bail!(
                Format,
                "{file}: {n} inputs but {} input_shape entries",
                net.input_shape.len()
            );
        }
        net.input_shape.iter().map(|s| s.dim.clone()).collect()
    } else {
        if net.input_dim.len() != 4 * n {
            crate::bail!(
                Format,
                "{file}: {n} inputs need {} input_dim values, found {}",
                4 * n,
                net.input_dim.len()
            );
        }
        net.input_dim
            .chunks(4)
            .map(|c| c.iter().map(|&d| i64::from(d)).collect())
            .collect()
    };
    Ok(net.input.iter().cloned().zip(shapes).collect())
}

/// Whether Caffe keeps the layer in a TEST-phase net (level 0, no stages): `Net::StateMeetsRule`.
pub(super) fn in_test_phase(layer: &LayerParameter) -> bool {
    if !layer.include.is_empty() {
        layer.include.iter().any(meets_test_state)
    } else {
        !layer.exclude.iter().any(meets_test_state)
    }
}

fn meets_test_state(rule: &NetStateRule) -> bool {
    rule.phase.is_none_or(|p| p == Phase::Test as i32)
        && rule.min_level.is_none_or(|l| l <= 0)
        && rule.max_level.is_none_or(|l| l >= 0)
        // The TEST net has no stages: a rule requiring one never matches; `not_stage` always passes.
        && rule.stage.is_empty()
}

fn upgrade_v1(v1: V1LayerParameter, file: &str) -> Result<LayerParameter> {
    let name = v1.name.clone().unwrap_or_default();
    if v1.layer.is_some() {
        crate::bail!(
            Unsupported,
            "{file}: layer '{name}' is in the V0 format (nested 'layer'), which is not supported"
        );
    }
    let ty = v1_type_name(v1.r#type).ok_or_else(|| {
        Error::Format(format!(
            "{file}: legacy layer '{name}' has no or an unknown type ({:?})",
            v1.r#type
        ))
    })?;
    Ok(LayerParameter {
        name: v1.name,
        r#type: Some(ty.to_string()),
        bottom: v1.bottom,
        top: v1.top,
        include: v1.include,
        exclude: v1.exclude,
        blobs: v1.blobs,
        loss_weight: v1.loss_weight,
        accuracy_param: v1.accuracy_param,
        argmax_param: v1.argmax_param,
        concat_param: v1.concat_param,
        contrastive_loss_param: v1.contrastive_loss_param,
        convolution_param: v1.convolution_param,
        data_param: v1.data_param,
        dropout_param: v1.dropout_param,
        dummy_data_param: v1.dummy_data_param,
        eltwise_param: v1.eltwise_param,
        exp_param: v1.exp_param,
        hdf5_data_param: v1.hdf5_data_param,
        hdf5_output_param: v1.hdf5_output_param,
        hinge_loss_param: v1.hinge_loss_param,
        image_data_param: v1.image_data_param,
        infogain_loss_param: v1.infogain_loss_param,
        inner_product_param: v1.inner_product_param,
        lrn_param: v1.lrn_param,
        memory_data_param: v1.memory_data_param,
        mvn_param: v1.mvn_param,
        pooling_param: v1.pooling_param,
        power_param: v1.power_param,
        relu_param: v1.relu_param,
        sigmoid_param: v1.sigmoid_param,
        softmax_param: v1.softmax_param,
        slice_param: v1.slice_param,
        tanh_param: v1.tanh_param,
        threshold_param: v1.threshold_param,
        window_data_param: v1.window_data_param,
        transform_param: v1.transform_param,
        loss_param: v1.loss_param,
        ..Default::default()
    })
}

/// Caffe's `UpgradeV1LayerType`.
fn v1_type_name(ty: Option<i32>) -> Option<&'static str> {
    use LayerType as T;
    Some(match T::try_from(ty?).ok()? {
        T::None => return None,
        T::Absval => "AbsVal",
        T::Accuracy => "Accuracy",
        T::Argmax => "ArgMax",
        T::Bnll => "BNLL",
        T::Concat => "Concat",
        T::ContrastiveLoss => "ContrastiveLoss",
        T::Convolution => "Convolution",
        T::Data => "Data",
        T::Deconvolution => "Deconvolution",
        T::Dropout => "Dropout",
        T::DummyData => "DummyData",
        T::EuclideanLoss => "EuclideanLoss",
        T::Eltwise => "Eltwise",
        T::Exp => "Exp",
        T::Flatten => "Flatten",
        T::Hdf5Data => "HDF5Data",
        T::Hdf5Output => "HDF5Output",
        T::HingeLoss => "HingeLoss",
        T::Im2col => "Im2col",
        T::ImageData => "ImageData",
        T::InfogainLoss => "InfogainLoss",
        T::InnerProduct => "InnerProduct",
        T::Lrn => "LRN",
        T::MemoryData => "MemoryData",
        T::MultinomialLogisticLoss => "MultinomialLogisticLoss",
        T::Mvn => "MVN",
        T::Pooling => "Pooling",
        T::Power => "Power",
        T::Relu => "ReLU",
        T::Sigmoid => "Sigmoid",
        T::SigmoidCrossEntropyLoss => "SigmoidCrossEntropyLoss",
        T::Silence => "Silence",
        T::Softmax => "Softmax",
        T::SoftmaxLoss => "SoftmaxWithLoss",
        T::Split => "Split",
        T::Slice => "Slice",
        T::Tanh => "TanH",
        T::WindowData => "WindowData",
        T::Threshold => "Threshold",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(phase: Option<Phase>, stage: &[&str]) -> NetStateRule {
        NetStateRule {
            phase: phase.map(|p| p as i32),
            stage: stage.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn phase_rules() {
        let mut l = LayerParameter::default();
        assert!(in_test_phase(&l));
        l.include = vec![rule(Some(Phase::Train), &[])];
        assert!(!in_test_phase(&l));
        l.include = vec![rule(Some(Phase::Test), &[])];
        assert!(in_test_phase(&l));
        l.include = vec![rule(None, &["deploy"])];
        assert!(!in_test_phase(&l));
        l.include.clear();
        l.exclude = vec![rule(Some(Phase::Test), &[])];
        assert!(!in_test_phase(&l));
        l.exclude = vec![rule(Some(Phase::Train), &[])];
        assert!(in_test_phase(&l));
    }

    #[test]
    fn v1_layers_get_v2_types() {
        let net = NetParameter {
            layers: vec![V1LayerParameter {
                name: Some("c".into()),
                r#type: Some(LayerType::Convolution as i32),
                ..Default::default()
            }],
            input: vec!["data".into()],
            input_dim: vec![1, 3, 8, 8],
            ..Default::default()
        };
        let up = upgrade(net, "v1").unwrap();
        assert_eq!(up.layers[0].r#type(), "Convolution");
        assert_eq!(up.inputs, vec![("data".to_string(), vec![1, 3, 8, 8])]);
    }
}
