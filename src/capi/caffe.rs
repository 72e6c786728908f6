//! The Caffe parser for C (TensorRT's `ICaffeParser`), and a weights exporter in the text format of
//! TensorRT's sampleMNISTAPI, so C programs can build a network by hand from a trained caffemodel.

use std::ffi::c_char;
use std::fmt::Write as _;
use std::path::Path;

use super::boundary::{ffi_boundary, get, get_mut, str_arg};
use super::logger::{infer8_logger, logger_arg};
use super::network::infer8_network;
use super::tensor::infer8_tensor;
use crate::error::{Error, Result};
use crate::network::{LayerKind, Network};
use crate::parser::{BlobNameToTensor, CaffeParser};
use crate::types::{DataType, Weights};

/// Made by `infer8_caffe_parser_create`, freed by `infer8_caffe_parser_destroy`.
pub struct infer8_caffe_parser {
    parser: CaffeParser,
    /// The blob map of the last successful parse, and the network it refers to (compared by
    /// address only, never dereferenced from here).
    blobs: Option<(BlobNameToTensor, *const infer8_network)>,
}

/// A Caffe parser. NULL on error.
#[unsafe(no_mangle)]
pub extern "C" fn infer8_caffe_parser_create() -> *mut infer8_caffe_parser {
    ffi_boundary!("infer8_caffe_parser_create", std::ptr::null_mut(), |_rep| {
        Ok(super::handles::adopt(Box::new(infer8_caffe_parser {
            parser: CaffeParser::new(),
            blobs: None,
        })))
    })
}

/// Frees a parser (networks it filled stay as they are). NULL is ignored.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_caffe_parser_destroy(parser: *mut infer8_caffe_parser) {
    ffi_boundary!("infer8_caffe_parser_destroy", (), |_rep| {
        // SAFETY: `release` frees only a live parser made by this library.
        drop(unsafe { super::handles::release(parser, "parser") }?);
        Ok(())
    })
}

/// Adds the layers of a deploy prototxt to `network`, with the weights of `model` (a caffemodel; NULL:
/// generated weights) converted to `weight_type` (FLOAT or HALF). Errors go to the network's logger.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_caffe_parser_parse(
    parser: *mut infer8_caffe_parser,
    deploy: *const c_char,
    model: *const c_char,
    network: *mut infer8_network,
    weight_type: i32,
) -> bool {
    ffi_boundary!("infer8_caffe_parser_parse", false, |rep| {
        // SAFETY (all pointer arguments in this file): the header's contract: null or valid.
        let p = unsafe { get_mut(parser, "parser") }?;
        let n = unsafe { get_mut(network, "network") }?;
        rep.set_logger(&n.logger);
        let deploy = unsafe { str_arg(deploy, "deploy") }?;
        let model = if model.is_null() {
            None
        } else {
            Some(unsafe { str_arg(model, "model") }?)
        };
        let weight_type =
            super::boundary::enum_arg(weight_type, DataType::from_i32, "weight_type")?;
        let blobs = p.parser.parse(
            Path::new(deploy),
            model.map(Path::new),
            &mut n.net,
            weight_type,
        )?;
        p.blobs = Some((blobs, network));
        Ok(true)
    })
}

/// The tensor holding the Caffe blob `name` after the last parse into `network`, or NULL.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_caffe_parser_find(
    parser: *const infer8_caffe_parser,
    network: *mut infer8_network,
    name: *const c_char,
) -> *mut infer8_tensor {
    ffi_boundary!("infer8_caffe_parser_find", std::ptr::null_mut(), |rep| {
        let p = unsafe { get(parser, "parser") }?;
        let n = unsafe { get_mut(network, "network") }?;
        rep.set_logger(&n.logger);
        let name = unsafe { str_arg(name, "name") }?;
        let blobs = match &p.blobs {
            Some((blobs, parsed)) if std::ptr::eq(*parsed, network) => blobs,
            _ => crate::bail!(
                InvalidArgument,
                "the parser has not parsed a model into this network"
            ),
        };
        let t = blobs
            .find(name)
            .ok_or_else(|| Error::InvalidArgument(format!("no blob named '{name}'")))?;
        Ok(n.tensor_handle(t))
    })
}

/// Writes the weights of a trained Caffe model to `out_path` in sampleMNISTAPI's `.wts` text format:
/// the number of blobs, then one line per blob `name type count hex...` (type 0 = FLOAT, each value the
/// hex of its IEEE-754 bits). Blobs are named after the layer: `<layer>filter` and `<layer>bias` for
/// convolution, deconvolution and fully connected layers, `<layer>shift`/`scale`/`power` for scale
/// layers, `<layer>weights` for constants; empty blobs are left out.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn infer8_caffe_export_wts(
    logger: *const infer8_logger,
    deploy: *const c_char,
    model: *const c_char,
    out_path: *const c_char,
) -> bool {
    ffi_boundary!("infer8_caffe_export_wts", false, |rep| {
        let logger = unsafe { logger_arg(logger) }?;
        rep.set_logger(&logger);
        let deploy = unsafe { str_arg(deploy, "deploy") }?;
        let model = unsafe { str_arg(model, "model") }?;
        let out_path = unsafe { str_arg(out_path, "out_path") }?;
        let mut net = Network::new();
        CaffeParser::new().parse(
            Path::new(deploy),
            Some(Path::new(model)),
            &mut net,
            DataType::Float,
        )?;
        let text = wts_text(&net)?;
        std::fs::write(out_path, text).map_err(|e| Error::Io(format!("{out_path}: {e}")))?;
        Ok(true)
    })
}

fn wts_text(net: &Network) -> Result<String> {
    let mut blobs: Vec<(String, &Weights)> = Vec::new();
    for layer in &net.layers {
        let named: Vec<(&str, &Weights)> = match &layer.kind {
            LayerKind::Convolution(p) | LayerKind::Deconvolution(p) => {
                vec![("filter", &p.kernel_weights), ("bias", &p.bias)]
            }
            LayerKind::FullyConnected { kernel, bias, .. } => {
                vec![("filter", kernel), ("bias", bias)]
            }
            LayerKind::Scale {
                shift,
                scale,
                power,
                ..
            } => vec![("shift", shift), ("scale", scale), ("power", power)],
            LayerKind::Constant { weights, .. } => vec![("weights", weights)],
            _ => continue,
        };
        if layer.name.is_empty() || layer.name.contains(char::is_whitespace) {
            crate::bail!(
                Unsupported,
                "layer name '{}' cannot be a .wts blob name (it has white space)",
                layer.name
            );
        }
        blobs.extend(
            named
                .into_iter()
                .filter(|(_, w)| !w.is_empty())
                .map(|(s, w)| (format!("{}{s}", layer.name), w)),
        );
    }
    let mut out = format!("{}\n", blobs.len());
    for (name, w) in blobs {
        write!(out, "{name} {} {}", DataType::Float as i32, w.len()).expect("writing to a String");
        for v in &w.values {
            write!(out, " {:08x}", v.to_bits()).expect("writing to a String");
        }
        out.push('\n');
    }
    Ok(out)
}
