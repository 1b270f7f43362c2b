// Package tune chooses kernel variants for the device at hand and keeps
// the choices in a cache file.
//
// Run times the candidate variants of each matrix product a model uses
// (kernels.Vulkan.MatMulCandidates: register tiles and shared-memory
// tiles), checks that each gives the default's bits, and keeps the
// fastest only when it beats the default by a margin in interleaved
// timings; otherwise the default stays. RunConvs does the same for each
// convolution pass among its forms (kernels.Vulkan.ConvForms: direct, GEMM,
// implicit GEMM), checking each against the default form's result within
// a tolerance, since the forms round differently. Merge folds the choices into a
// versioned JSON file's content (by default tuning.json in the user's cache
// directory, under noether-vk/), keyed by the device's name, its driver
// and the product's shape, which noether-vk tune writes atomically. Load turns the file's
// entry for a device into a kernels.Tuning for kernels.Vulkan.Tuning; a
// corrupt file or one of another version is ignored with a one-line
// warning, and the kernels run their defaults.
//
// The shapes come from the programs themselves: compiled with an empty
// kernels.Tuning, a model's programs leave the products and conv passes
// they record in Tuning.Missed and Tuning.MissedConvs (see noether-vk
// tune).
package tune
