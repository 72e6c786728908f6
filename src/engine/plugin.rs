//! Plugin layers in an engine's life: the builder gives the engine its own plugin objects and
//! configures them, every engine initializes them when it is made (built, or read from a file), and
//! they terminate when the engine's last holder drops them (`network::plugin`).

use super::Engine;
use crate::error::{Error, Result};
use crate::network::{LayerKind, Network};

/// Replaces each plugin of `net` (a copy the builder made) by the engine's own object.
pub fn instantiate(net: &mut Network) -> Result<()> {
    for layer in &mut net.layers {
        if let LayerKind::Plugin(p) = &mut layer.kind {
            *p = p
                .for_engine()
                .map_err(|e| Error::Network(format!("plugin layer '{}': {e}", layer.name)))?;
        }
    }
    Ok(())
}

/// Gets every plugin layer ready to run: `configure` first when the builder made the engine (a
/// deserialized plugin restores its configuration from its own bytes, as in TensorRT), then
/// `initialize`.
pub fn start(engine: &Engine, configure: bool) -> Result<()> {
    let net = &engine.network;
    for &l in &engine.order {
        let layer = &net.layers[l];
        let LayerKind::Plugin(p) = &layer.kind else {
            continue;
        };
        let shapes = |ids: &[usize]| -> Vec<_> {
            ids.iter().map(|&t| net.tensors[t].shape.clone()).collect()
        };
        let run = || {
            if configure {
                p.plugin.configure(
                    &shapes(&layer.inputs),
                    &shapes(&layer.outputs),
                    engine.max_batch_size,
                )?;
            }
            p.plugin.initialize(engine.max_batch_size)
        };
        run().map_err(|e| Error::Runtime(format!("plugin layer '{}': {e}", layer.name)))?;
    }
    Ok(())
}
