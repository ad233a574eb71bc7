package status

import (
	"context"
	"time"
)

// Watch calls frame at once and then every period until ctx ends, and
// hands each frame to draw only when it differs from the last one drawn, so
// that an unchanged view is never redrawn. It returns when ctx ends.
func Watch(ctx context.Context, period time.Duration, frame func(context.Context) string, draw func(string)) {
	t := time.NewTicker(period)
	defer t.Stop()
	last, drawn := "", false
	for {
		f := frame(ctx)
		if ctx.Err() != nil {
			return // a frame cut short by the end is not worth drawing
		}
		if !drawn || f != last {
			draw(f)
			last, drawn = f, true
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
