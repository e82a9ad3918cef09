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
// because anyone can send one. A failure of Daily's REST API is logged at
// WARN with the API's status and the retry delay, and at ERROR when the API
// rejected this server's key, a configuration fault. The log names the token
// by its fingerprint only.
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

	restErr, fromAPI := tokencore.AsRESTError(err)
	level := zapcore.DebugLevel
	switch {
	case fromAPI && restErr.KeyRejected():
		level = zapcore.ErrorLevel
	case status >= http.StatusInternalServerError:
		level = zapcore.WarnLevel
	}
	entry := logger.Check(level, "request rejected")
	if entry == nil {
		return
	}
	fields := []zap.Field{
		zap.String("job", job),
		zap.Int("status", status),
		zap.String("reason", reason),
		zap.String("error", err.Error()),
	}
	if fingerprint != "" {
		fields = append(fields, zap.String("fingerprint", fingerprint))
	}
	if fromAPI {
		fields = append(fields,
			zap.String("api_endpoint", restErr.Endpoint),
			zap.Int("api_status", restErr.StatusCode),
			zap.String("api_error", restErr.APIError),
			zap.Bool("api_timeout", restErr.Timeout),
			zap.Duration("retry_after", restErr.RetryAfter))
	}
	entry.Write(fields...)
}
