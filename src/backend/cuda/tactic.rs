//! Tactic choice by timing (TensorRT's kernel timing at build time): each convolution and FC layer
//! is launched with every kernel family that can take it, and the fastest is recorded in the
//! engine. `setAverageFindIterations` launches make one measurement (their mean time), and the
//! minimum of `setMinFindIterations` measurements is the layer's time with that family.
//!
//! Each family is measured by the executor itself: the engine's whole plan, built with that family
//! asked of every layer, each launch timed with an event pair. A layer the family cannot take
//! falls back as the plan's rules say, and is measured with the family it really got.

use super::executor::Executor;
use super::memory::DeviceBuffer;
use super::{cuda_err, gpu_or_err};
use crate::engine::{Engine, Tactic};
use crate::error::Result;
use crate::logger::{Logger, Severity};
use crate::network::LayerId;
use crate::types::{DataType, volume};

/// How a family is timed: `measurements` of `launches` launches each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    pub measurements: u32,
    pub launches: u32,
}

impl Schedule {
    /// From the builder's `setMinFindIterations` and `setAverageFindIterations`; TensorRT treats
    /// values below 1 as 1.
    pub fn new(min_find_iterations: i32, avg_find_iterations: i32) -> Schedule {
        Schedule {
            measurements: min_find_iterations.max(1) as u32,
            launches: avg_find_iterations.max(1) as u32,
        }
    }
}

/// Per step, the least of `schedule.measurements` calls of `run(schedule.launches)` (each giving
/// every step's mean time per launch).
fn measure(schedule: Schedule, mut run: impl FnMut(u32) -> Result<Vec<f32>>) -> Result<Vec<f32>> {
    let mut best: Vec<f32> = Vec::new();
    for _ in 0..schedule.measurements {
        let times = run(schedule.launches)?;
        if best.is_empty() {
            best = times;
        } else {
            best.iter_mut().zip(times).for_each(|(b, t)| *b = b.min(t));
        }
    }
    Ok(best)
}

/// Per layer, the fastest of its timed `(layer, family, ms)` samples (the first on ties).
fn fastest(samples: &[(LayerId, Tactic, f32)], nb_layers: usize) -> Vec<Option<(Tactic, f32)>> {
    let mut best: Vec<Option<(Tactic, f32)>> = vec![None; nb_layers];
    for &(l, t, ms) in samples {
        if best[l].is_none_or(|(_, b)| ms < b) {
            best[l] = Some((t, ms));
        }
    }
    best
}

fn element_bytes(dtype: DataType) -> usize {
    match dtype {
        DataType::Half => 2,
        DataType::Int8 | DataType::Bool => 1,
        DataType::Float | DataType::Int32 => 4,
    }
}

/// The family timing picks for each layer of `engine` (None for layers other than convolution
/// and FC), timed at the maximum batch size; logs every measurement at kVERBOSE. Nothing is
/// timed while `INFER8_CUDA_CONV` forces a family: every run would use that family anyway.
pub fn choose_tactics(
    engine: &Engine,
    schedule: Schedule,
    logger: &dyn Logger,
) -> Result<Vec<Option<Tactic>>> {
    let n = engine.network.layers.len();
    if let Some(f) = super::plan::forced() {
        logger.log(
            Severity::Verbose,
            &format!(
                "INFER8_CUDA_CONV forces {} kernels: no tactic timing",
                f.name()
            ),
        );
        return Ok(vec![None; n]);
    }
    gpu_or_err()?
        .ctx
        .bind_to_thread()
        .map_err(cuda_err("binding the context"))?;
    let batch = engine.max_batch_size;
    // The bindings' contents do not matter to the time; zeros keep every kernel on finite values.
    let bindings = engine
        .bindings
        .iter()
        .map(|b| {
            DeviceBuffer::from_slice(&vec![
                0u8;
                batch * volume(&b.shape) * element_bytes(b.dtype)
            ])
        })
        .collect::<Result<Vec<_>>>()?;
    let ptrs: Vec<u64> = bindings.iter().map(DeviceBuffer::ptr).collect();
    let mut samples = Vec::new();
    for family in Tactic::ALL {
        let mut trial = engine.clone();
        trial.tactics = vec![Some(family); n];
        let mut ex = Executor::new(&trial, &None)?;
        // SAFETY: device buffers of `batch` items of each binding; stream 0 is the default
        // stream of the primary context.
        let times = measure(schedule, |launches| unsafe {
            ex.time_steps(batch, &ptrs, 0, launches)
        })?;
        for (step, ms) in ex.steps().iter().zip(times) {
            if let Some((l, t)) = step.tactic {
                logger.log(
                    Severity::Verbose,
                    &format!(
                        "Layer '{}': tactic {} time {ms:.6} ms",
                        engine.network.layers[l].name,
                        t.name()
                    ),
                );
                samples.push((l, t, ms));
            }
        }
    }
    let best = fastest(&samples, n);
    for (l, b) in best.iter().enumerate() {
        if let Some((t, ms)) = b {
            logger.log(
                Severity::Verbose,
                &format!(
                    "Layer '{}': chose tactic {} ({ms:.6} ms, batch {batch}, {} x {} launches)",
                    engine.network.layers[l].name,
                    t.name(),
                    schedule.measurements,
                    schedule.launches
                ),
            );
        }
    }
    Ok(best.into_iter().map(|b| b.map(|(t, _)| t)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn find_iterations_make_the_schedule() {
        assert_eq!(
            Schedule::new(2, 3),
            Schedule {
                measurements: 2,
                launches: 3
            }
        );
        assert_eq!(
            Schedule::new(0, -4),
            Schedule {
                measurements: 1,
                launches: 1
            }
        );
    }

    #[test]
    fn measurements_take_the_minimum_of_min_find_runs_of_avg_find_launches() {
        let mut calls = Vec::new();
        let runs = [vec![3.0, 1.0], vec![2.0, 4.0], vec![5.0, 0.5]];
        let best = measure(Schedule::new(3, 7), |launches| {
            calls.push(launches);
            Ok(runs[calls.len() - 1].clone())
        })
        .unwrap();
        assert_eq!(calls, [7, 7, 7]);
        assert_eq!(best, [2.0, 0.5]);
    }

    #[test]
    fn the_fastest_family_wins_per_layer() {
        let samples = [
            (0, Tactic::Igemm, 2.0),
            (2, Tactic::Shared, 1.0),
            (0, Tactic::Shared, 1.5),
            (0, Tactic::Direct, 1.5),
            (2, Tactic::Shared, 0.5),
        ];
        assert_eq!(
            fastest(&samples, 3),
            [
                Some((Tactic::Shared, 1.5)),
                None,
                Some((Tactic::Shared, 0.5))
            ]
        );
    }
}
