package caddymodule

import (
	"net/http"
	"strconv"
	"time"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/dailytoken/dailytoken/tokencore"
)

// reject logs and counts a rejected request, and sets Retry-After when the
// core's error carries a retry delay. A client mistake is logged at DEBUG,
// because anyone can send one. A server-side failure, such as Daily's API
// being unavailable, is logged at WARN. The log names the token by its
// fingerprint only.
func reject(w http.ResponseWriter, logger *zap.Logger, c *counters, job, fingerprint string, err error) {
	status := tokencore.StatusOf(err)
	reason := outcomeServerError
	if e, ok := tokencore.AsError(err); ok {
		reason = e.Reason
		if e.RetryAfter > 0 {
			seconds := int((e.RetryAfter + time.Second - 1) / time.Second)
			w.Header().Set("Retry-After", strconv.Itoa(seconds))
		}
	}
	c.rejected(job, reason)

	level := zapcore.DebugLevel
	if status >= http.StatusInternalServerError {
		level = zapcore.WarnLevel
	}
	if entry := logger.Check(level, "request rejected"); entry != nil {
		fields := []zap.Field{
			zap.String("job", job),
			zap.Int("status", status),
			zap.String("reason", reason),
			zap.String("error", err.Error()),
		}
		if fingerprint != "" {
			fields = append(fields, zap.String("fingerprint", fingerprint))
		}
		entry.Write(fields...)
	}
}
