//! Prototxt (protobuf text format) reading: prost-reflect parses against the NetParameter descriptor,
//! which covers the whole grammar Caffe files use, and the result is transcoded to the prost type.

use super::proto::{DESCRIPTOR_SET, NetParameter};
use crate::error::{Error, Result};
use once_cell::sync::Lazy;
use prost::Message;
use prost_reflect::{DescriptorPool, DynamicMessage, MessageDescriptor};

static NET_PARAMETER: Lazy<Result<MessageDescriptor, String>> = Lazy::new(|| {
    let pool = DescriptorPool::decode(DESCRIPTOR_SET).map_err(|e| e.to_string())?;
    pool.get_message_by_name("caffe.NetParameter")
        .ok_or_else(|| "caffe.NetParameter is missing from the compiled schema".to_string())
});

/// Parses a deploy prototxt; `file` names it in errors.
pub(super) fn parse_net(bytes: &[u8], file: &str) -> Result<NetParameter> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let (line, col) = line_col(bytes, e.valid_up_to());
        Error::Format(format!(
            "{file}:{line}:{col}: the prototxt is not valid UTF-8"
        ))
    })?;
    let desc = NET_PARAMETER
        .as_ref()
        .map_err(|e| Error::Format(format!("{file}: Caffe schema: {e}")))?;
    let dynamic = DynamicMessage::parse_text_format(desc.clone(), text).map_err(|e| {
        let at = error_offset(&e).unwrap_or(text.len());
        let (line, col) = line_col(bytes, at);
        Error::Format(format!("{file}:{line}:{col}: syntax error: {e}"))
    })?;
    // Both sides use the same schema, so the round trip is lossless.
    NetParameter::decode(dynamic.encode_to_vec().as_slice()).map_err(|e| {
        Error::Format(format!(
            "{file}: could not convert the parsed prototxt: {e}"
        ))
    })
}

/// Byte offset of the first labelled span; errors at end of input carry none.
fn error_offset(e: &prost_reflect::text_format::ParseError) -> Option<usize> {
    use miette::Diagnostic;
    e.labels()?.next().map(|l| l.offset())
}

/// 1-based line and column (in characters) of a byte offset.
fn line_col(bytes: &[u8], offset: usize) -> (usize, usize) {
    let before = &bytes[..offset.min(bytes.len())];
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let col = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    (line, col)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reports_line_and_column() {
        let err = parse_net(
            b"name: \"x\"\nlayer {\n  name: \"a\"\n  bogus: 1\n}\n",
            "d.prototxt",
        )
        .unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with("d.prototxt:4:3: syntax error"), "{msg}");
    }

    #[test]
    fn reads_full_grammar() {
        let src = "# comment\nname: 'n\\x41' input: \"data\" input_dim: [1, 3] input_dim: 2 input_dim: 2\n\
                   layer { name: \"p\" type: \"Power\" bottom: \"data\" top: \"p\" power_param { scale: 1.5e-2 } }\n";
        let net = parse_net(src.as_bytes(), "g.prototxt").unwrap();
        assert_eq!(net.name(), "nA");
        assert_eq!(net.input_dim, [1, 3, 2, 2]);
        assert_eq!(net.layer[0].power_param.as_ref().unwrap().scale(), 1.5e-2);
    }

    #[test]
    fn end_of_input_points_at_the_end() {
        let msg = parse_net(b"layer {\n  name: \"a\"\n", "e.prototxt")
            .unwrap_err()
            .to_string();
        assert!(msg.starts_with("e.prototxt:3:1:"), "{msg}");
    }
}
