package view

// State is what the viewer shows of a run: which example, which step of
// its animation, and the switches the keys turn.
type State struct {
	Example int
	Step    int
	Paused  bool
	// NoHeat hides the Grad-CAM heat maps, showing the frames alone.
	NoHeat bool
	// Component is the principal component whose Grad-CAM is shown
	// (0-based).
	Component int
}

// Action is what a key asks of the program beyond the State.
type Action int

const (
	None Action = iota
	Quit
	Screenshot
)

// Keys is the help line of the keys Key understands.
const Keys = "space pause  arrows/n/p example  h heat  1-6 component  s screenshot  q quit"

// Key applies a pressed key (named as gpu/window names keys: "q",
// "space", "left", ...) to s for the run r, and returns what else it
// asks for. Unknown keys do nothing.
func (s *State) Key(k string, r *Run) Action {
	switch k {
	case "q", "escape":
		return Quit
	case "s":
		return Screenshot
	case "space":
		s.Paused = !s.Paused
	case "right", "down", "n":
		s.Example++
		s.Step = 0
	case "left", "up", "p":
		s.Example--
		s.Step = 0
	case "h":
		s.NoHeat = !s.NoHeat
	case "1", "2", "3", "4", "5", "6":
		s.Component = int(k[0] - '1')
	}
	s.Fit(r)
	return None
}

// Fit brings s within what r has: the example wraps around, the step and
// the component are clamped.
func (s *State) Fit(r *Run) {
	if n := r.Examples(); n > 0 {
		s.Example = (s.Example%n + n) % n
	} else {
		s.Example = 0
	}
	s.Step = min(max(s.Step, 0), r.Steps(s.Example)-1)
	k := 1
	if r.GradCAM != nil {
		k = max(r.GradCAM.K, 1)
	}
	s.Component = min(max(s.Component, 0), k-1)
}

// Advance moves the animation one step on, from the last step back to
// the first, and reports whether the step changed; it does nothing while
// paused.
func (s *State) Advance(r *Run) bool {
	if s.Paused {
		return false
	}
	s.Fit(r)
	was := s.Step
	s.Step = (s.Step + 1) % r.Steps(s.Example)
	return s.Step != was
}
