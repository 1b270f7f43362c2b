// Package metrics scores predicted video frames against the truth, frame
// by frame, with the conventions of the Noether Networks reference code
// (video-facts.md section 3), and aggregates them per prediction step.
//
// Images are []float32 laid out [C, H, W] (Shape), values in [0, 1]; all
// arithmetic is on the host in float64.
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
// LPIPS, the reference's fourth metric, is not here yet: it needs
// AlexNet's features and LPIPS's linear weights, which the user must
// supply as files (nothing here downloads them), and a network to run
// them, so it is a later addition.
package metrics
