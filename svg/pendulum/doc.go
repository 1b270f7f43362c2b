// Package pendulum is the pixel pendulum with controls of the paper's
// Figure 3: Gym's Pendulum-v0 driven by a scripted policy, rendered to
// frames, cut into windows of history frames, actions and frames to
// predict. Everything is made from a seed; nothing is downloaded.
//
//	d, err := pendulum.New(pendulum.DefaultConfig()) // 5 training, 195 test episodes of 200 frames
//	b, err := d.Batch(pendulum.Train, []int{0, 17, 42}) // Frames [T, B, 3, 64, 64], Actions [T, B, 1]
//
// # Dynamics
//
// Step is Gym Pendulum-v0 exactly (dt 0.05, g 10, m = l = 1, |u| <= 2):
// thdot' = thdot + (-3g/(2l) sin(th + pi) + 3/(m l^2) u) dt, th' = th +
// thdot' dt with the unclipped speed, then thdot' is clipped to +-8. The
// angle is 0 upright, grows counter-clockwise and is not wrapped, as in
// Gym. An episode starts from Gym's reset, th ~ U[-pi, pi), thdot ~
// U[-1, 1), plus one policy step (below).
//
// # Frames
//
// Render draws Gym's scene at any size, RGB float32 in [0, 1] laid out
// [3, H, W]: a white background, the world spanning +-2.2 on both axes (a
// non-square frame stretches it, as Gym's viewer would), the rod a
// capsule of length 1 and width 0.2 coloured (0.8, 0.3, 0.3), rotated by
// th + pi/2 as Gym rotates it (th = 0 points up), a black axle of radius
// 0.05, and on top a black arrow for the torque u, centred on the axle:
// Gym draws a picture (clockwise.png) scaled by (-u/2, |u|/2), so its size
// is proportional to |u| (none at u = 0) and it turns clockwise for u < 0,
// counter-clockwise for u > 0, the way the torque turns the pendulum. The
// picture is redrawn here as geometry, a 240-degree arc with a triangular
// head, of about its proportions. Edges are anti-aliased by a box filter,
// 8x8 samples per pixel, taken only in pixels an edge crosses (decided
// from signed distances, so the result equals sampling every pixel).
// About 0.5 ms per 64x64 frame on one core.
//
// Frame t shows the pendulum in state t with, as its arrow, the torque
// that brought it there (the action of frame t-1), as Gym draws its last
// action. Gym rescales its picture only when the last action is truthy
// ("if self.last_u:"): before the first step it draws it at full size,
// and after a torque of exactly 0 it keeps the previous size. Here u = 0
// draws no arrow, and an episode begins one policy step after the reset
// (Episode.Lead is that step's torque), so every frame's arrow means the
// same thing.
//
// # Policy
//
// The authors' scripted policy is not public. A swing-up controller
// reaches the top in about 30 steps and then holds still, which would
// leave most of a 200-frame episode static. Policy instead pumps energy
// toward a target and adds smooth noise:
//
//	E   = thdot²/6 + 5 cos th                  (the rod's energy: I = 1/3, m g l/2 = 5)
//	u_t = clip((E* - E) thdot + n_t, -2, 2)    (gain 1)
//	n_t = 0.9 n_{t-1} + 0.5 sqrt(1 - 0.9²) eps_t,  eps_t ~ N(0, 1)
//
// with the target E* ~ U[-2.5, 4) redrawn every 50 steps (DefaultPolicy).
// Why this form:
//
//   - A torque changes the energy at the rate thdot u, so u proportional
//     to (E* - E) thdot drives E to E* from any state: the pendulum swings
//     up from wherever it starts and keeps swinging.
//   - The torque is proportional to thdot, not to its sign: the bang-bang
//     form (E* - E) sign(thdot) was tried and, braking at full torque, it
//     held the pendulum still, tilted where gravity's torque 5 sin th
//     equals 2.
//   - Targets stay below 5, the energy of rest upright: at or above it
//     the pumping steers onto the separatrix, where the pendulum creeps
//     toward the top and lingers (tried: mean |thdot| under 0.2 over the
//     last 100 frames of some episodes). E* = -2.5 is a swing of 60
//     degrees each side, 4 one of 143 degrees, close to the top.
//   - The noise, correlated over about ten steps (0.5 s), makes the
//     actions more than a function of the frames, so an action-conditioned
//     model must read them; the targets' changes vary the amplitude within
//     an episode.
//
// Over the 200 episodes of the default data (and of seeds 2 to 10), the
// mean |thdot| over each episode's last 100 frames is at least about 2.5
// rad/s.
//
// # Splits and windows
//
// Config sets the splits (5 training and 195 test episodes of 200 frames
// by default) and the windows: History given frames and Horizon frames to
// predict (4 and 26), one starting at every Stride-th frame of each
// episode, numbered episode by episode. Batch returns windows by index,
// time-major: Frames [T, B, 3, H, W] with T = History + Horizon, and
// Actions [T, B, 1], Actions[t] being the torque applied in frame t, which
// brings frame t+1. Predicting frame t+1 from frame t takes Actions[t], so
// the 26 predicted frames take the 26 actions from the last history frame
// on (the paper's "26 policy actions starting from the current timestep");
// the window's last action is included to keep the shape [T, B, 1].
// Episodes are recorded (a few numbers per frame) when the Dataset is
// made, and frames rendered when a batch asks for them: all 195 test
// episodes at 64x64 would take 1.9 GB as float32.
//
// Every episode draws its random numbers from its own PCG stream, keyed
// by the seed, its split and its index, with the conversions to uniforms
// and Gaussians written here: the same seed gives byte-identical states,
// actions and frames (on one architecture; Go may fuse multiply-adds on
// others), and one split's episodes do not change with the size of the
// other.
//
// clips.Image and clips.Grid turn its frames into 8-bit images.
package pendulum
