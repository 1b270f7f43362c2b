// Package metrics scores predicted video frames against the truth, frame
// by frame, with the conventions of the Noether Networks reference code
// (video-facts.md section 3), and aggregates them per prediction step.
//
// Images are []float32 laid out [C, H, W] (Shape), values in [0, 1]. MSE,
// PSNR and SSIM compute on the host in float64, LPIPS on a device in
// float32.
//
//   - MSE: the sum of squared errors over C*H*W.
//   - PSNR: data range 1, per colour channel, then averaged over
//     channels; +Inf for a channel predicted exactly (see PSNR).
//   - SSIM: scikit-image's structural_similarity for float images with
//     a 7x7 uniform window, sample covariance (x 49/48), the mean after
//     cropping 3 pixels on every side, per channel, averaged. The data
//     range defaults to 1 (UnitRange), correct for frames in [0, 1]; the
//     reference code, through scikit-image 0.17.2, used 2 (ReferenceRange,
//     taken from the float dtype's range (-1, 1)), which raises every
//     score. Options{} is the correct convention and Reference() the
//     reference's; a table must say which it uses.
//
// Video scores a batch laid out [T, B, C, H, W]; Curves collects each
// episode's per-step scores and gives, per step, the mean over episodes
// with its standard error (the Figure 3 curves and bands), and the mean
// over all frames with its standard error across episodes. The paper's
// bands are standard errors over training runs instead: apply Summarize
// to the runs' means for those.
//
// The values are checked against scikit-image (0.19.3, computing in
// float64 as 0.17.2 did) on the image pairs in testdata, written once by
// testdata/gen.py; they agree to about 1e-15 relative.
//
// # LPIPS
//
// LPIPS, the reference's fourth metric (Zhang et al. 2018, version 0.1
// with AlexNet, as the lpips package computes it), runs on a device: a
// program compiled from graph/nn modules and loaded through any
// graph.Backend (NewLPIPS; Distances for N pairs at a time, Video for
// [T, B, 3, H, W]). For images x, y in [0, 1]:
//
//   - each mapped to [-1, 1] and scaled per channel, (v - shift) / scale
//     with shift (-0.030, -0.088, -0.188), scale (0.458, 0.448, 0.450);
//   - through torchvision's AlexNet features, taking the ReLU outputs after
//     convolutions 1 to 5 (64 channels, 11x11 stride 4 padding 2, then max
//     pool 3/2; 192, 5x5 padding 2, then max pool 3/2; 384, 256, 256, 3x3
//     padding 1);
//   - each unit-normalised over channels at every position, f / (|f| +
//     1e-10);
//   - per layer, sum_c w_c (f_x - f_y)² with the layer's non-negative
//     linear weights w (a 1x1 convolution), averaged over positions;
//   - summed over the five layers.
//
// The device's convolutions take kernel sides up to 7, so the first layer
// runs as a space-to-depth by 4 followed by a 3x3 convolution with its
// weights rearranged on the host: the same sums (see conv1 in lpips.go).
// Images must be at least 31x31.
//
// The weights are two published files the user supplies (nothing here
// downloads them): torchvision's AlexNet, alexnet-owt-7be5be79.pth (BSD-3),
// and LPIPS v0.1's linear layers, lpips/weights/v0.1/alex.pth of the
// lpips package (BSD-2). tools/pth2safetensors reads both, without
// PyTorch, into one safetensors file:
//
//	go run ./tools/pth2safetensors -include '^(features|lin[0-4])\.' -o lpips_alex.safetensors alexnet-owt-7be5be79.pth alex.pth
//
// LoadLPIPSWeights reads it and checks it holds exactly these tensors
// (LPIPSParams; PyTorch's names and layouts) and that the linear weights
// are non-negative:
//
//	features.0.weight [64, 3, 11, 11]    features.0.bias [64]
//	features.3.weight [192, 64, 5, 5]    features.3.bias [192]
//	features.6.weight [384, 192, 3, 3]   features.6.bias [384]
//	features.8.weight [256, 384, 3, 3]   features.8.bias [256]
//	features.10.weight [256, 256, 3, 3]  features.10.bias [256]
//	lin0.model.1.weight [1, 64, 1, 1]    lin1.model.1.weight [1, 192, 1, 1]
//	lin2.model.1.weight [1, 384, 1, 1]   lin3.model.1.weight [1, 256, 1, 1]
//	lin4.model.1.weight [1, 256, 1, 1]
//
// The test needs no published weights: tools/peer/lpips_ref.py implements
// the formula above independently, with PyTorch in float64 (the lpips
// package itself cannot be installed here), on weights and images drawn
// from a counter-based hash that the test reproduces, and its distances
// are committed (testdata/lpips_reference.json). On lavapipe and on the
// CPU executor LPIPS matches them to 2e-5 relative (largest error seen:
// 1.9e-6), for unrelated images, identical ones (exactly 0), a noisy and a
// mirrored copy, at 64 and 128 pixels.
package metrics
