//! The TensorRT 5.1 C++ ABI (DESIGN.md decision 1): library objects are `#[repr(C)]` structs whose
//! first word points at a static vtable laid out in the header's declaration order; user objects
//! (`ILogger`, calibrators, `IProfiler`, plugins, their factories and creators) are called through
//! theirs. Each vtable is defined with [`vtable!`], which also records every slot, so
//! [`slot_table`] (compared with a C++ probe by `tests/abi_vtables.rs`) cannot drift from the
//! structs.

/// Defines a `#[repr(C)]` vtable struct of function pointers (fields named as the C++ methods, in
/// slot order; `as "name"` renames overloads and destructors) and its `slots()`: (interface, method,
/// slot) of the fields it declares itself. An optional base vtable is embedded first, as single
/// inheritance lays it out.
macro_rules! vtable {
    (
        $(#[$meta:meta])*
        $iface:literal => struct $name:ident $(: $base:ty)? {
            $( $field:ident $(as $alias:literal)? : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[repr(C)]
        #[allow(non_snake_case)]
        pub struct $name {
            $( pub base: $base, )?
            $( pub $field: $ty, )*
        }

        impl $name {
            pub fn slots() -> Vec<(&'static str, &'static str, usize)> {
                vec![$((
                    $iface,
                    vtable!(@name $field $($alias)?),
                    ::std::mem::offset_of!($name, $field) / ::std::mem::size_of::<usize>(),
                )),*]
            }
        }
    };
    (@name $field:ident) => { stringify!($field) };
    (@name $field:ident $alias:literal) => { $alias };
}

pub mod boundary;
pub mod builder;
pub mod builder_config;
pub mod caffe;
pub mod calibrator;
pub mod context;
pub mod dims;
pub mod engine;
pub mod error_recorder;
pub mod gpu_allocator;
pub mod host_memory;
pub mod layer;
pub mod layers;
pub mod logger;
pub mod network;
pub mod onnx;
pub mod plugin;
pub mod plugin_factory;
pub mod plugin_layer;
pub mod profile;
pub mod runtime;
pub mod tensor;
pub mod user_plugin;

/// Every vtable slot infer8 implements or calls: (interface, method, slot). Destructor slots are
/// named `~D1` (complete) and `~D0` (deleting); the later of two overloads is `method#2`.
pub fn slot_table() -> Vec<(&'static str, &'static str, usize)> {
    use layers::{convolution::*, fill::*, pointwise::*, pooling::*, resize::*, shape::*};
    [
        logger::ILoggerVtbl::slots(),
        builder::IBuilderVtbl::slots(),
        builder_config::IBuilderConfigVtbl::slots(),
        profile::IOptimizationProfileVtbl::slots(),
        caffe::ICaffeParserVtbl::slots(),
        caffe::IBlobNameToTensorVtbl::slots(),
        caffe::IBinaryProtoBlobVtbl::slots(),
        calibrator::IInt8CalibratorVtbl::slots(),
        calibrator::IInt8LegacyCalibratorVtbl::slots(),
        calibrator::override_slots(),
        context::IExecutionContextVtbl::slots(),
        context::IProfilerVtbl::slots(),
        error_recorder::IErrorRecorderVtbl::slots(),
        engine::ICudaEngineVtbl::slots(),
        host_memory::IHostMemoryVtbl::slots(),
        plugin::IPluginRegistryVtbl::slots(),
        plugin::IPluginCreatorVtbl::slots(),
        user_plugin::IPluginVtbl::slots(),
        user_plugin::IPluginExtVtbl::slots(),
        user_plugin::IPluginV2Vtbl::slots(),
        user_plugin::IPluginV2ExtVtbl::slots(),
        user_plugin::IPluginV2IOExtVtbl::slots(),
        user_plugin::override_slots(),
        plugin_factory::IPluginFactoryVtbl::slots(),
        plugin_factory::IPluginFactoryExtVtbl::slots(),
        plugin_factory::IPluginFactoryV2Vtbl::slots(),
        plugin_factory::IRuntimePluginFactoryVtbl::slots(),
        plugin_layer::IPluginLayerVtbl::slots(),
        plugin_layer::IPluginV2LayerVtbl::slots(),
        runtime::IRuntimeVtbl::slots(),
        tensor::ITensorVtbl::slots(),
        layer::ILayerVtbl::slots(),
        IConvolutionLayerVtbl::slots(),
        IDeconvolutionLayerVtbl::slots(),
        IPoolingLayerVtbl::slots(),
        IFullyConnectedLayerVtbl::slots(),
        IActivationLayerVtbl::slots(),
        ILRNLayerVtbl::slots(),
        IScaleLayerVtbl::slots(),
        ISoftMaxLayerVtbl::slots(),
        IConcatenationLayerVtbl::slots(),
        IElementWiseLayerVtbl::slots(),
        IUnaryLayerVtbl::slots(),
        IPaddingLayerVtbl::slots(),
        IShuffleLayerVtbl::slots(),
        IConstantLayerVtbl::slots(),
        ISliceLayerVtbl::slots(),
        IReduceLayerVtbl::slots(),
        ITopKLayerVtbl::slots(),
        IMatrixMultiplyLayerVtbl::slots(),
        IGatherLayerVtbl::slots(),
        IResizeLayerVtbl::slots(),
        IFillLayerVtbl::slots(),
        network::IOutputDimensionsFormulaVtbl::slots(),
        network::INetworkDefinitionVtbl::slots(),
        onnx::IParserVtbl::slots(),
        onnx::IParserErrorVtbl::slots(),
    ]
    .concat()
}
