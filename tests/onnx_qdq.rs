//! Issue 9: a QuantizeLinear/DequantizeLinear pair on an activation becomes that tensor's INT8
//! dynamic range (±127 · scale), as TensorRT 7 read explicit quantization; weights behind a
//! DequantizeLinear fold to float values. Models are built with prost, no Python needed.

use infer8::logger::NullLogger;
use infer8::network::{LayerKind, Network};
use infer8::parser::OnnxParser;
use infer8::parser::onnx::proto::{
    GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, ValueInfoProto, tensor_shape_proto, type_proto,
};
use prost::Message;

fn value(name: &str, dims: &[i64]) -> ValueInfoProto {
    let dim = dims
        .iter()
        .map(|&d| tensor_shape_proto::Dimension {
            value: Some(tensor_shape_proto::dimension::Value::DimValue(d)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: Some(name.into()),
        r#type: Some(TypeProto {
            value: Some(type_proto::Value::TensorType(type_proto::Tensor {
                elem_type: Some(1),
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn scalar(name: &str, elem: i32, raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: Some(name.into()),
        data_type: Some(elem),
        raw_data: Some(raw),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        op_type: Some(op.into()),
        name: Some(output.into()),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

#[test]
fn qdq_pairs_become_dynamic_ranges() {
    // x -> Q/DQ (scale 0.02) -> MatMul with DQ(int8 weights, scale 0.5) -> y
    let weights = TensorProto {
        name: Some("wq".into()),
        data_type: Some(3),
        dims: vec![2, 2],
        raw_data: Some(vec![2u8, 0xfe, 4, 6]),
        ..Default::default()
    };
    let model = ModelProto {
        ir_version: Some(7),
        opset_import: vec![OperatorSetIdProto {
            domain: Some(String::new()),
            version: Some(13),
        }],
        graph: Some(GraphProto {
            name: Some("qdq".into()),
            node: vec![
                node("QuantizeLinear", &["x", "s", "z"], "xq"),
                node("DequantizeLinear", &["xq", "s", "z"], "xd"),
                node("DequantizeLinear", &["wq", "ws", "z"], "w"),
                node("MatMul", &["xd", "w"], "y"),
            ],
            initializer: vec![
                scalar("s", 1, 0.02f32.to_le_bytes().to_vec()),
                scalar("ws", 1, 0.5f32.to_le_bytes().to_vec()),
                scalar("z", 3, vec![0]),
                weights,
            ],
            input: vec![value("x", &[3, 2])],
            output: vec![value("y", &[3, 2])],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec();
    let mut net = Network::new();
    net.explicit_batch = true;
    let mut parser = OnnxParser::new();
    assert!(
        parser.parse(&model, &mut net, "qdq", &NullLogger),
        "{:?}",
        parser.errors()
    );
    let range = |name: &str| {
        let t = net
            .find_tensor(name)
            .unwrap_or_else(|| panic!("no tensor {name}"));
        net.tensors[t].dynamic_range
    };
    assert_eq!(range("x"), Some((-2.54, 2.54)));
    assert_eq!(range("xd"), Some((-2.54, 2.54)));
    // The weights folded: (q - 0) * 0.5, a constant layer feeding the product.
    let constant = net
        .layers
        .iter()
        .find_map(|l| match &l.kind {
            LayerKind::Constant { weights, .. } => Some(weights.values.clone()),
            _ => None,
        })
        .expect("a constant layer for the weights");
    assert_eq!(constant, [1.0, -1.0, 2.0, 3.0]);

    // A QuantizeLinear with a zero point is not symmetric INT8: refused with the node named.
    let mut asymmetric = ModelProto::decode(model.as_slice()).unwrap();
    let g = asymmetric.graph.as_mut().unwrap();
    g.initializer[2].raw_data = Some(vec![3]);
    let mut net = Network::new();
    net.explicit_batch = true;
    assert!(!parser.parse(
        &asymmetric.encode_to_vec(),
        &mut net,
        "asymmetric",
        &NullLogger
    ));
    let e = parser.errors().last().unwrap();
    assert_eq!(e.node, 0);
    assert!(e.desc.contains("zero point"), "{}", e.desc);
}
