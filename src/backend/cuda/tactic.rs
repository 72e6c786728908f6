//! Tactic choice by timing (TensorRT's kernel timing at build time): each convolution and FC layer
//! is launched with every kernel family that can take it, at the maximum batch, its geometric
//! middle and batch 1, and the family nearest the best at all three is recorded in the engine. `setAverageFindIterations`
//! launches make one measurement (their mean time), and the minimum of `setMinFindIterations`
//! measurements is the layer's time with that family.
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

/// The batches a family is timed at: the maximum, its geometric middle, and 1.
fn timing_batches(max: usize) -> [usize; 3] {
    let mid = ((max as f64).sqrt().round() as usize).clamp(1, max.max(1));
    [max, mid, 1]
}

/// A family's times for one layer, at each of [`timing_batches`].
#[derive(Debug, Clone, Copy, PartialEq)]
struct Sample {
    layer: LayerId,
    family: Tactic,
    times: [f32; 3],
}

/// Per layer, the family whose worst ratio to the fastest (at the maximum batch, the middle one
/// and batch 1) is least (the first on ties). One plan serves every batch size, and the family
/// fastest at a large batch can be several times slower at batch 1 (conv.cu's shared kernel
/// takes one block per item) or in between (fc.cu's tiles, where fc_rows.cu takes batch 1 for
/// every family); the least worst regret keeps every size near its best.
fn choose(samples: &[Sample], nb_layers: usize) -> Vec<Option<Sample>> {
    let mut best = vec![[f32::INFINITY; 3]; nb_layers];
    for s in samples {
        for (b, t) in best[s.layer].iter_mut().zip(s.times) {
            *b = b.min(t);
        }
    }
    let regret = |s: &Sample| {
        let ratio = |t: f32, best: f32| if best > 0.0 { t / best } else { 1.0 };
        s.times
            .iter()
            .zip(best[s.layer])
            .map(|(&t, b)| ratio(t, b))
            .fold(0.0f32, f32::max)
    };
    let mut chosen: Vec<Option<Sample>> = vec![None; nb_layers];
    for s in samples {
        if chosen[s.layer].is_none_or(|c| regret(s) < regret(&c)) {
            chosen[s.layer] = Some(*s);
        }
    }
    chosen
}

/// "t1 at batch b1, t2 at batch b2, ..." for the logs.
fn at_batches(times: &[f32; 3], batches: &[usize; 3]) -> String {
    times
        .iter()
        .zip(batches)
        .map(|(t, b)| format!("{t:.6} at batch {b}"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn element_bytes(dtype: DataType) -> usize {
    match dtype {
        DataType::Half => 2,
        DataType::Int8 | DataType::Bool => 1,
        DataType::Float | DataType::Int32 => 4,
    }
}

/// The family timing picks for each layer of `engine` (None for layers other than convolution
/// and FC), timed at the batches of [`timing_batches`] (see [`choose`]); logs every measurement at kVERBOSE. Nothing is
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
        let mut ex = Executor::layer_by_layer(&trial)?;
        let mut time_at = |b: usize| {
            // SAFETY: device buffers of `batch` items of each binding; stream 0 is the default
            // stream of the primary context.
            measure(schedule, |launches| unsafe {
                ex.time_steps(b, &ptrs, 0, launches)
            })
        };
        // An untimed run first: a plan's first launches pay for loading the kernels and for
        // cold caches, which would count against whichever family runs first.
        time_at(batch)?;
        let batches = timing_batches(batch);
        let mut times = Vec::with_capacity(3);
        for &b in &batches {
            times.push(time_at(b)?);
        }
        for (i, step) in ex.steps().iter().enumerate() {
            if let Some((layer, family)) = step.tactic {
                let times = [times[0][i], times[1][i], times[2][i]];
                logger.log(
                    Severity::Verbose,
                    &format!(
                        "Layer '{}': tactic {} time {} ms",
                        engine.network.layers[layer].name,
                        family.name(),
                        at_batches(&times, &batches)
                    ),
                );
                samples.push(Sample {
                    layer,
                    family,
                    times,
                });
            }
        }
    }
    let chosen = choose(&samples, n);
    let batches = timing_batches(batch);
    for s in chosen.iter().flatten() {
        logger.log(
            Severity::Verbose,
            &format!(
                "Layer '{}': chose tactic {} ({} ms, {} x {} launches)",
                engine.network.layers[s.layer].name,
                s.family.name(),
                at_batches(&s.times, &batches),
                schedule.measurements,
                schedule.launches
            ),
        );
    }
    Ok(chosen.into_iter().map(|c| c.map(|s| s.family)).collect())
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

    fn sample(layer: LayerId, family: Tactic, times: [f32; 3]) -> Sample {
        Sample {
            layer,
            family,
            times,
        }
    }

    #[test]
    fn timing_covers_both_ends_and_the_middle() {
        assert_eq!(timing_batches(65536), [65536, 256, 1]);
        assert_eq!(timing_batches(100), [100, 10, 1]);
        assert_eq!(timing_batches(1), [1, 1, 1]);
    }

    /// The family fastest at every size wins; one fastest only at the maximum batch loses to one
    /// a little slower there but far faster at batch 1 (LeNet's INT8 conv1 on an H200: shared
    /// 6430 µs against igemm's 7147 at batch 65536, but 37.1 µs against 11.8 at batch 1), or in
    /// the middle (LeNet's FP32 ip2 + prob on an H200, with fc_rows.cu taking batch 1 for every
    /// family: timed at 1 and 65536 only, fc.cu's tiles won and took 52 µs at batch 100).
    #[test]
    fn the_family_with_the_least_worst_regret_wins_per_layer() {
        let samples = [
            sample(0, Tactic::Igemm, [2.0, 1.0, 1.0]),
            sample(2, Tactic::Shared, [1.0, 1.0, 1.0]),
            sample(0, Tactic::Shared, [1.5, 0.8, 0.5]),
            sample(0, Tactic::Direct, [1.5, 0.8, 0.6]),
            sample(2, Tactic::Shared, [0.5, 0.5, 0.5]),
            sample(3, Tactic::Igemm, [7.147, 0.1, 0.0118]),
            sample(3, Tactic::Shared, [6.430, 0.1, 0.0371]),
            sample(4, Tactic::Shared, [0.243, 0.052, 0.008]),
            sample(4, Tactic::Igemm, [0.280, 0.013, 0.008]),
        ];
        let families: Vec<Option<Tactic>> = choose(&samples, 5)
            .into_iter()
            .map(|c| c.map(|s| s.family))
            .collect();
        assert_eq!(
            families,
            [
                Some(Tactic::Shared),
                None,
                Some(Tactic::Shared),
                Some(Tactic::Igemm),
                Some(Tactic::Igemm)
            ]
        );
    }
}
