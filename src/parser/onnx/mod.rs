//! TensorRT's ONNX parser (`nvonnxparser::IParser`): an ONNX model (opsets 7-17 and the later
//! forms of the same operators) becomes `Network` calls on an explicit-batch network, as
//! TensorRT 7's parser required. Shapes are static, so shape subgraphs fold to constants
//! while parsing; QuantizeLinear/DequantizeLinear pairs set INT8 dynamic ranges.
//!
//! Pipeline: `proto` decodes the model, `importer` binds value names, `ops` import each node.

mod error;
mod importer;
mod ops;
pub mod proto;
pub mod value;

use std::path::Path;
use std::rc::Rc;

pub use error::{ErrorCode, ParserError};
use error::{PResult, bad};
use importer::{Importer, Val};
use prost::Message;
use proto::{ModelProto, ValueInfoProto};
use value::{elem, read_tensor};

use crate::logger::{Logger, Severity};
use crate::network::{LayerKind, Network};
use crate::types::DataType;

/// The ONNX parser: parses models into networks and keeps the errors of the last parses.
#[derive(Debug, Default)]
pub struct OnnxParser {
    errors: Vec<ParserError>,
}

/// Nodes of a model in order, each with whether the parser has an importer for its operator
/// (`supportsModel`'s sub-graph collection: runs of consecutive nodes of equal support).
pub type SubGraphs = Vec<(Vec<usize>, bool)>;

impl OnnxParser {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn errors(&self) -> &[ParserError] {
        &self.errors
    }

    pub fn clear_errors(&mut self) {
        self.errors.clear();
    }

    pub fn supports_operator(op_type: &str) -> bool {
        ops::supports(op_type)
    }

    /// Parses a serialized `ModelProto` into `network`; false (with errors recorded and logged)
    /// on failure. `source` names the model in messages.
    pub fn parse(
        &mut self,
        model: &[u8],
        network: &mut Network,
        source: &str,
        logger: &dyn Logger,
    ) -> bool {
        match parse_model(model, network) {
            Ok(()) => true,
            Err(mut e) => {
                e.desc = format!("{source}: {}", e.desc);
                logger.log(Severity::Error, &format!("ONNX parser: {}", e.desc));
                self.errors.push(e);
                false
            }
        }
    }

    pub fn parse_from_file(
        &mut self,
        path: &Path,
        network: &mut Network,
        logger: &dyn Logger,
    ) -> bool {
        match std::fs::read(path) {
            Ok(bytes) => self.parse(&bytes, network, &path.display().to_string(), logger),
            Err(e) => {
                let err = bad!(
                    InvalidValue,
                    "{}: cannot read the model: {e}",
                    path.display()
                );
                logger.log(Severity::Error, &format!("ONNX parser: {}", err.desc));
                self.errors.push(err);
                false
            }
        }
    }

    /// Whether every node of the model has an importer, and the runs of supported and unsupported
    /// nodes. Parsing may still fail on a supported operator's particular attributes.
    pub fn supports_model(&mut self, model: &[u8]) -> (bool, SubGraphs) {
        let m = match ModelProto::decode(model) {
            Ok(m) => m,
            Err(e) => {
                self.errors.push(bad!(
                    ModelDeserializeFailed,
                    "the model is not a valid ONNX ModelProto: {e}"
                ));
                return (false, vec![]);
            }
        };
        let mut groups: SubGraphs = Vec::new();
        for (i, node) in m.graph.iter().flat_map(|g| &g.node).enumerate() {
            let ok = ops::supports(node.op_type());
            match groups.last_mut() {
                Some((nodes, s)) if *s == ok => nodes.push(i),
                _ => groups.push((vec![i], ok)),
            }
        }
        (groups.iter().all(|g| g.1), groups)
    }
}

fn opset_of(m: &ModelProto) -> PResult<i64> {
    let opset = m
        .opset_import
        .iter()
        .find(|o| o.domain().is_empty() || o.domain() == "ai.onnx")
        .map(|o| o.version())
        .ok_or_else(|| {
            bad!(
                InvalidGraph,
                "the model imports no default-domain (ai.onnx) opset"
            )
        })?;
    Ok(opset)
}

/// The network type and static dimensions of a graph input.
fn input_desc(v: &ValueInfoProto) -> PResult<(DataType, Vec<usize>)> {
    let name = v.name();
    let tensor = match v.r#type.as_ref().and_then(|t| t.value.as_ref()) {
        Some(proto::type_proto::Value::TensorType(t)) => t,
        _ => {
            return Err(bad!(
                UnsupportedGraph,
                "graph input '{name}' is not a tensor"
            ));
        }
    };
    let dtype = match tensor.elem_type() {
        elem::FLOAT => DataType::Float,
        elem::FLOAT16 => DataType::Half,
        elem::INT32
        | elem::INT64
        | elem::INT8
        | elem::UINT8
        | elem::INT16
        | elem::UINT16
        | elem::BOOL => DataType::Int32,
        t => {
            return Err(bad!(
                UnsupportedGraph,
                "graph input '{name}' has element type {}, not FLOAT, FLOAT16 or an integer type",
                elem::name(t)
            ));
        }
    };
    let shape = tensor
        .shape
        .as_ref()
        .ok_or_else(|| bad!(UnsupportedGraph, "graph input '{name}' has no shape"))?;
    let dims = shape
        .dim
        .iter()
        .enumerate()
        .map(|(i, d)| match &d.value {
            Some(proto::tensor_shape_proto::dimension::Value::DimValue(v)) if *v > 0 => Ok(*v as usize),
            Some(proto::tensor_shape_proto::dimension::Value::DimParam(p)) => Err(bad!(
                UnsupportedGraph,
                "graph input '{name}': dimension {i} is the symbol '{p}'; infer8 builds static shapes (fix the dimension in the model)"
            )),
            _ => Err(bad!(UnsupportedGraph, "graph input '{name}': dimension {i} is unknown or not positive")),
        })
        .collect::<PResult<Vec<_>>>()?;
    // A scalar input is held as one element.
    Ok((dtype, if dims.is_empty() { vec![1] } else { dims }))
}

fn parse_model(bytes: &[u8], net: &mut Network) -> PResult<()> {
    if !net.explicit_batch {
        return Err(bad!(
            InvalidGraph,
            "the network has an implicit batch dimension; the ONNX parser needs one made by createNetworkV2(1U << kEXPLICIT_BATCH)"
        ));
    }
    let model = ModelProto::decode(bytes)
        .map_err(|e| bad!(ModelDeserializeFailed, "not a valid ONNX ModelProto: {e}"))?;
    let opset = opset_of(&model)?;
    let graph = model
        .graph
        .as_ref()
        .ok_or_else(|| bad!(InvalidGraph, "the model has no graph"))?;
    let mut imp = Importer::new(net, opset);
    for init in &graph.initializer {
        let c = read_tensor(init)
            .map_err(|e| bad!(InvalidGraph, "initializer '{}': {}", init.name(), e.desc))?;
        imp.define(init.name(), Val::C(Rc::new(c)));
    }
    for input in &graph.input {
        if imp.lookup(input.name()).is_some() {
            // An input with an initializer is a default value: the initializer is used.
            continue;
        }
        let (dtype, dims) = input_desc(input)?;
        let t = imp.net.add_input(input.name(), dtype, &dims)?;
        imp.define(input.name(), Val::T(t));
    }
    for (i, node) in graph.node.iter().enumerate() {
        let name = if node.name().is_empty() {
            format!("{}_{i}", node.op_type())
        } else {
            node.name().to_string()
        };
        let located = |mut e: ParserError| {
            e.node = i as i32;
            e.func = "importNode";
            e.desc = format!("node {i} '{name}' ({}): {}", node.op_type(), e.desc);
            e
        };
        if !node.domain().is_empty() && node.domain() != "ai.onnx" {
            return Err(located(bad!(
                UnsupportedNode,
                "domain '{}' is not supported",
                node.domain()
            )));
        }
        imp.begin_node(name.clone());
        let outs = ops::import(&mut imp, node).map_err(located)?;
        for (o, name) in node.output.iter().enumerate() {
            if name.is_empty() {
                continue;
            }
            let v = outs.get(o).cloned().ok_or_else(|| {
                located(bad!(
                    UnsupportedNode,
                    "output {o} '{name}' is not supported"
                ))
            })?;
            imp.set_output(name, v);
        }
    }
    for out in &graph.output {
        let name = out.name();
        let v = imp.lookup(name).cloned().ok_or_else(|| {
            bad!(
                InvalidGraph,
                "graph output '{name}' is not computed by any node"
            )
        })?;
        imp.begin_node(format!("{name}_output"));
        let mut t = imp.tensor(&v)?;
        if imp.net.tensors[t].name != name || imp.net.is_input(t) || imp.net.is_output(t) {
            let dtype = imp.net.tensors[t].dtype;
            t = imp.layer(LayerKind::Identity, &[t])?;
            imp.net.tensors[t].dtype = dtype;
        }
        imp.net.tensors[t].name = name.to_string();
        if let Some(proto::type_proto::Value::TensorType(tt)) =
            out.r#type.as_ref().and_then(|t| t.value.as_ref())
            && tt.elem_type() != 0
        {
            imp.net.tensors[t].dtype = match tt.elem_type() {
                elem::FLOAT16 => DataType::Half,
                t if elem::is_float(t) => DataType::Float,
                _ => DataType::Int32,
            };
        }
        imp.net.mark_output(t)?;
    }
    Ok(())
}
