//! ReduceMean/Max/Min/Sum/Prod over any axes. The layer keeps the reduced axes and a reshape
//! drops them, so no tensor of rank 0 reaches the network.

use super::super::error::{PResult, bad};
use super::super::importer::{Importer, Val, attr_i, attr_ints, axis};
use super::super::proto::NodeProto;
use crate::network::LayerKind;
use crate::types::{DataType, ReduceOperation};

pub fn reduce(imp: &mut Importer, node: &NodeProto) -> PResult<Vec<Val>> {
    let op = match node.op_type() {
        "ReduceMean" => ReduceOperation::Avg,
        "ReduceMax" => ReduceOperation::Max,
        "ReduceMin" => ReduceOperation::Min,
        "ReduceSum" => ReduceOperation::Sum,
        "ReduceProd" => ReduceOperation::Prod,
        op => return Err(bad!(UnsupportedNode, "{op} is not a reduction")),
    };
    let x = imp.req(node, 0)?;
    let dims = imp.shape(&x);
    // Opset 13 moved ReduceSum's axes to an input, opset 18 the others'.
    let axes = match attr_ints(node, "axes") {
        Some(a) => Some(a),
        None => imp.constant(node, 1, "axes")?.map(|c| c.as_i64s()),
    };
    let keep = attr_i(node, "keepdims", 1) != 0;
    let axes: Vec<usize> = match axes {
        Some(a) if !a.is_empty() => a
            .iter()
            .map(|&v| axis(v, dims.len()))
            .collect::<PResult<_>>()?,
        _ if attr_i(node, "noop_with_empty_axes", 0) != 0 => {
            let t = imp.tensor(&x)?;
            return Ok(vec![Val::T(imp.layer(LayerKind::Identity, &[t])?)]);
        }
        _ => (0..dims.len()).collect(),
    };
    if dims.is_empty() || dims.iter().product::<usize>() == 0 {
        return Err(bad!(
            UnsupportedNode,
            "reduction of an empty or scalar tensor {dims:?}"
        ));
    }
    let t = imp.tensor(&x)?;
    let int = imp.net.tensors[t].dtype == DataType::Int32;
    let mask = axes.iter().fold(0u32, |m, &a| m | 1 << a);
    let y = imp.layer(
        LayerKind::Reduce {
            op,
            axes: mask,
            keep_dims: true,
        },
        &[t],
    )?;
    if int {
        imp.net.tensors[y].dtype = DataType::Int32;
    }
    if keep {
        return Ok(vec![Val::T(y)]);
    }
    let out: Vec<usize> = dims
        .iter()
        .enumerate()
        .filter(|(d, _)| !axes.contains(d))
        .map(|(_, &n)| n)
        .collect();
    Ok(vec![Val::T(imp.reshape(y, &out)?)])
}
