// Package gradcam is Grad-CAM + PCA of the Noether embedding g_phi, the
// paper's Figure 5: which parts of a frame each principal direction of
// the learned conserved quantity looks at. Every step runs on the device
// as graph ops; the host only renders frames and moves arrays.
//
//	run, err := gradcam.LoadRun("runs/pixel-pendulum-seed1") // train --task pixel-pendulum's folder
//	res, err := run.Analyze(gradcam.Options{Backend: graph.VulkanBackend{...}})
//	paths, err := gradcam.WriteOutputs(filepath.Join(run.Dir, gradcam.Folder), res)
//
// # PCA
//
// FitPCA takes the embeddings of the ground-truth frame pairs of every
// test sequence (for the pixel pendulum: the first window of each test
// episode, the window video's evaluation predicts; for the ramp: every
// test clip), leaving out each sequence's pairs 0 and 1 as the reference
// does, and fits K = 6 components without whitening: the mean (a
// reduction), the covariance of the centred samples over n - 1 (a matrix product), its
// eigen-decomposition (Graph.SymEig: parallel cyclic Jacobi in one
// workgroup), the scores, and the signs. The explained variance ratio is
// each eigenvalue over the sum of all of them, as scikit-learn's
// explained_variance_ratio_.
//
// Signs follow scikit-learn's svd_flip as its PCA applied it until
// release 1.5, which the reference used (u_based_decision): a component
// is negated where needed so that the sample with the score of largest
// magnitude on it scores positive (the first such sample on ties).
// scikit-learn 1.5 and later instead make each component's own entry of
// largest magnitude positive, which can flip a component, its score and
// so its map. (Graph.SymEig returns its eigenvectors in that later
// convention; FitPCA then applies the reference's.)
//
// # Grad-CAM
//
// Analyzer.Maps cuts the embedding at its target, the ReLU after the
// second convolution (TargetLayer: 64 channels at half the frame's side),
// with nn.Sequential.ApplyTapped, so the activation A is a graph node.
// For each pair and component k: the score s_k = (e - mean) . component_k
// of the pair's embedding e; its gradient with respect to A (Graph.Grad);
// channel weights w_c, the mean of the gradient over A's height and
// width; cam = ReLU(sum_c w_c A_c); resized bilinearly to the frame
// (Graph.ResizeBilinear2d, align_corners false: PyTorch's F.interpolate
// default); min-max normalised to [0, 1] (Graph.NormalizeMinMax; a
// constant map, such as one ReLU zeroes, stays all zeros); and blended
// onto the pair's first frame: jet colours (MATLAB's piecewise-linear
// jet, which OpenCV's COLORMAP_JET samples) added to the frame and the
// sum divided by its largest value (Graph.JetBlend). pytorch-grad-cam
// quantises the map to 256 levels before colouring it; here it is not.
//
// # Outputs and the viewer
//
// WriteOutputs writes, into a run folder's gradcam folder by default:
//
//   - maps.safetensors, read by the live viewer (noether-vk view) when it
//     is present. float32 tensors, row-major:
//     "frames" [N, T, 3, H, W] in [0, 1]: for each of the N chosen test
//     sequences, the first frame of each of its T pairs (pair t is frames
//     t and t+1; every pair of the sequence, pairs 0 and 1 included);
//     "heat" [K, N, T, H, W] in [0, 1]: the min-max normalised maps, by
//     component (PC1 first), sequence and pair;
//     "explained" [K]: each component's explained variance ratio;
//     besides them "sequences" [N] (the test sequences' indices),
//     "components" [K, D] and "mean" [D] (the PCA). Metadata:
//     dropped_pairs, fit_samples.
//   - explained.json: the ratios, their running sum, the variances, the
//     samples fitted and the sign convention (Explained).
//   - figure5.png: per sequence a block whose columns are the chosen
//     steps and whose rows are the frame and each component's blended
//     map, labelled with the component's share of the variance.
//
// LoadRun reads what train --task pixel-pendulum or --task ramp leaves in
// its run folder: the manifest (the task, and the noether phase, which
// must be done; its settings give the data configuration and the
// embedding's size) and the noether phase's checkpoint (the embedding's
// weights).
package gradcam
