package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	dto "github.com/prometheus/client_model/go"
)

const dashboardPath = "../packaging/grafana/portsyncd.json"

var (
	promString   = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'`)
	promMatchers = regexp.MustCompile(`\{[^}]*\}`)
	promRange    = regexp.MustCompile(`\[[^\]]*\]`)
	promGrouping = regexp.MustCompile(`\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	promToken    = regexp.MustCompile(`[0-9][0-9a-zA-Z_.]*|[a-zA-Z_:][a-zA-Z0-9_:]*(\s*\()?`)
	labelValues  = regexp.MustCompile(`label_values\(\s*([a-zA-Z_:][a-zA-Z0-9_:]*)\s*,`)
	// promAggregation matches an aggregation operator and, when it comes
	// before the operand, its grouping clause.
	promAggregation = regexp.MustCompile(`\b(sum|min|max|avg|count|group|stddev|stdvar|topk|bottomk|quantile|count_values)\s*(?:(by|without)\s*\(([^)]*)\))?\s*\(`)
	promKeywords    = map[string]bool{
		"and": true, "or": true, "unless": true, "offset": true, "bool": true,
		"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"inf": true, "nan": true, "Inf": true, "NaN": true,
	}
)

// promqlMetrics returns the metric names a PromQL expression selects:
// identifiers that are neither functions, keywords, label names, label
// values, durations nor numbers.
func promqlMetrics(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	s = promMatchers.ReplaceAllString(s, " ")
	s = promRange.ReplaceAllString(s, " ")
	s = promGrouping.ReplaceAllString(s, " ")
	var names []string
	for _, m := range promToken.FindAllStringSubmatch(s, -1) {
		tok := m[0]
		if m[1] != "" || tok[0] >= '0' && tok[0] <= '9' || promKeywords[tok] {
			continue // a call, a number or duration, a keyword
		}
		names = append(names, tok)
	}
	return names
}

// withoutInstance returns the aggregations of expr that do not keep the
// instance label, written as "op by (...)" before the operand: with several
// switches scraped, any other form adds their figures into one.
func withoutInstance(expr string) []string {
	s := promString.ReplaceAllString(expr, `""`)
	var bad []string
	for _, m := range promAggregation.FindAllStringSubmatch(s, -1) {
		keeps := false
		if m[2] == "by" {
			for l := range strings.SplitSeq(m[3], ",") {
				keeps = keeps || strings.TrimSpace(l) == "instance"
			}
		}
		if !keeps {
			bad = append(bad, strings.TrimSpace(strings.TrimSuffix(m[0], "(")))
		}
	}
	return bad
}

// dashboardExprs returns every PromQL expression of a Grafana dashboard's
// panel targets.
func dashboardExprs(dashboard []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(dashboard, &v); err != nil {
		return nil, err
	}
	var exprs []string
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok && k == "expr" {
					exprs = append(exprs, s)
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	return exprs, nil
}

// dashboardMetrics returns the metric names every query of a Grafana
// dashboard selects: panel targets' expr, and label_values in variables.
func dashboardMetrics(dashboard []byte) ([]string, error) {
	var v any
	if err := json.Unmarshal(dashboard, &v); err != nil {
		return nil, err
	}
	seen := make(map[string]bool)
	var walk func(any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, e := range v {
				if s, ok := e.(string); ok {
					switch {
					case k == "expr":
						for _, n := range promqlMetrics(s) {
							seen[n] = true
						}
					case strings.Contains(s, "label_values("):
						for _, m := range labelValues.FindAllStringSubmatch(s, -1) {
							seen[m[1]] = true
						}
					}
				}
				walk(e)
			}
		case []any:
			for _, e := range v {
				walk(e)
			}
		}
	}
	walk(v)
	names := make([]string, 0, len(seen))
	for n := range seen {
		names = append(names, n)
	}
	slices.Sort(names)
	return names, nil
}

// missing returns the names that no family in fams provides; a histogram
// provides its _bucket, _sum and _count series.
func missing(names []string, fams map[string]*dto.MetricFamily) []string {
	var out []string
	for _, n := range names {
		if _, ok := fams[n]; ok {
			continue
		}
		found := false
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suffix); ok {
				if f, ok := fams[base]; ok && f.GetType() == dto.MetricType_HISTOGRAM {
					found = true
				}
			}
		}
		if !found {
			out = append(out, n)
		}
	}
	return out
}

func TestWithoutInstance(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`sum by (instance) (rate(a_total[5m]))`, nil},
		{`histogram_quantile(0.99, sum by (le, instance) (rate(a_bucket[5m])))`, nil},
		{`max by(instance)(a) / max by (instance) (b)`, nil},
		{`sum(rate(a_total[5m]))`, []string{"sum"}},
		{`sum by (le) (rate(a_bucket[5m]))`, []string{"sum by (le)"}},
		{`sum without (instance) (a)`, []string{"sum without (instance)"}},
		{`max by (instance) (a) and on (instance) min(b{x="sum(c)"})`, []string{"min"}},
		{`sum_over_time(a[5m]) + a_count`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, withoutInstance(tt.expr)); diff != "" {
				t.Errorf("withoutInstance (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPromqlMetrics(t *testing.T) {
	tests := []struct {
		expr string
		want []string
	}{
		{`histogram_quantile(0.99, sum by (le) (rate(a_seconds_bucket{instance=~"$instance"}[$__rate_interval])))`, []string{"a_seconds_bucket"}},
		{`sum(rate(b_total[5m])) / sum(rate(c_total[5m]))`, []string{"b_total", "c_total"}},
		{`time() - max(d_timestamp_seconds{job="x, y (z)"})`, []string{"d_timestamp_seconds"}},
		{`e and on(instance) f offset 5m > bool 1e3`, []string{"e", "f"}},
		{`sum without (mode) (rate (g_total[1m]))`, []string{"g_total"}},
		{`max by (actor) (h) * on (actor) group_left(x) i`, []string{"h", "i"}},
		{`vector(1)`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.expr, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, promqlMetrics(tt.expr)); diff != "" {
				t.Errorf("promqlMetrics (-want +got):\n%s", diff)
			}
		})
	}
}

// TestDashboardMatchesMetrics scrapes a live server whose every source is
// set and checks that each metric the Grafana dashboard queries is in it,
// so the two cannot drift apart.
func TestDashboardMatchesMetrics(t *testing.T) {
	b, err := os.ReadFile(dashboardPath)
	if err != nil {
		t.Fatal(err)
	}
	names, err := dashboardMetrics(b)
	if err != nil {
		t.Fatalf("%s: %v", dashboardPath, err)
	}
	var st state
	fill(&st, 1)
	m := New(st.sources())
	fams := scrape(t, serve(t, m, nil, nil, nil))
	if miss := missing(names, fams); len(miss) > 0 {
		t.Errorf("%s queries metrics the registry does not have: %v", dashboardPath, miss)
	}
	// Every portsyncd family should be on the dashboard; the stock go_*
	// and process_* ones are there only as far as they help.
	notShown := map[string]bool{}
	for f := range fams {
		if strings.HasPrefix(f, "portsyncd_") {
			notShown[f] = true
		}
	}
	for _, n := range names {
		delete(notShown, n)
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(n, suffix); ok {
				delete(notShown, base)
			}
		}
	}
	if len(notShown) > 0 {
		t.Errorf("metrics on no dashboard panel: %v", slices.Sorted(func(yield func(string) bool) {
			for n := range notShown {
				if !yield(n) {
					return
				}
			}
		}))
	}
	exprs, err := dashboardExprs(b)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range exprs {
		if bad := withoutInstance(e); len(bad) > 0 {
			t.Errorf("%s: %v in %q: aggregate by (instance, ...)", dashboardPath, bad, e)
		}
	}
	if len(names) < 30 {
		t.Errorf("found %d metric names in %s: %v; the extraction is broken", len(names), dashboardPath, names)
	}

	// The check itself must catch a name the registry lacks.
	bad := []byte(`{"panels":[{"targets":[{"expr":"sum(rate(portsyncd_netlink_events_total[5m])) + rate(portsyncd_no_such_metric_total[5m])"}]}],
		"templating":{"list":[{"query":{"query":"label_values(portsyncd_no_such_gauge, instance)"}}]}}`)
	badNames, err := dashboardMetrics(bad)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"portsyncd_no_such_gauge", "portsyncd_no_such_metric_total"}, missing(badNames, fams)); diff != "" {
		t.Errorf("missing in a dashboard with unknown metrics (-want +got):\n%s", diff)
	}
}
