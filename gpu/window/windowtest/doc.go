// Package windowtest runs window tests against pixels the X server really
// shows: StartXvfb starts a private Xvfb whose screen is kept in a file
// (-fbdir), and Screen reads that file (XWD) back.
package windowtest
