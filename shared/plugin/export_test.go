package plugin

// OnStart tells f the PID of every plugin process r starts, so that tests can check
// that none is left running.
func (r *Runner) OnStart(f func(pid int)) { r.started = f }
