// Package safetensors reads and writes the safetensors format (float32
// tensors by name, string metadata), the format of every checkpoint and
// parameter file the project writes, so that the safetensors Python
// library and PyTorch open them as they are. Writes are atomic and carry a
// SHA-256 of the whole file, header included, that reads verify.
package safetensors
