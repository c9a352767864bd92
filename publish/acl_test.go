package publish

import "testing"

func TestFilterCovers(t *testing.T) {
	for _, tc := range []struct {
		pattern, filter string
		want            bool
	}{
		{"fruitcam/dev1/#", "fruitcam/dev1/#", true},
		{"fruitcam/dev1/#", "fruitcam/dev1", true}, // # matches the parent level
		{"fruitcam/dev1/#", "fruitcam/dev1/status", true},
		{"fruitcam/dev1/#", "fruitcam/dev1/cmd/+", true},
		{"fruitcam/dev1/#", "fruitcam/dev1/+/result", true},
		{"fruitcam/dev1/#", "fruitcam/#", false},
		{"fruitcam/dev1/#", "fruitcam/+/status", false},
		{"fruitcam/dev1/#", "fruitcam/dev2/status", false},
		{"fruitcam/dev1/#", "fruitcam/dev10/status", false},
		{"fruitcam/dev1/#", "fruitcam", false},
		{"fruitcam/dev1/#", "#", false},
		{"fruitcam/dev1/#", "", false},
		{"fruitcam/#", "fruitcam/+/+/result", true},
		{"fruitcam/#", "fruitcamx/a", false},
		{"fruitcam/#", "$SYS/broker/uptime", false},
		{"fruitcam/dev1/cmd/+", "fruitcam/dev1/cmd/pause", true},
		{"fruitcam/dev1/cmd/+", "fruitcam/dev1/cmd/+", true},
		{"fruitcam/dev1/cmd/+", "fruitcam/dev1/cmd/pause/reply", false},
		{"fruitcam/dev1/cmd/+", "fruitcam/dev1/cmd/#", false},
		{"fruitcam/dev1/cmd/+", "fruitcam/dev1/cmd", false},
		{"fruitcam/dev1/cmd/+", "fruitcam/dev1/cmd/", true}, // an empty level is a level
	} {
		if got := filterCovers(tc.pattern, tc.filter); got != tc.want {
			t.Errorf("filterCovers(%q, %q): got %v, want %v", tc.pattern, tc.filter, got, tc.want)
		}
	}
}

func TestACLRules(t *testing.T) {
	authed, err := newACL(BrokerOptions{
		Device:    "dev1",
		Users:     map[string]string{"agent": "a", "viewer": "v", "op": "o"},
		Agent:     "agent",
		Operators: []string{"op"},
	})
	if err != nil {
		t.Fatal(err)
	}
	anon, err := newACL(BrokerOptions{Device: "dev1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		acl   *acl
		user  string
		topic string
		write bool
		want  bool
	}{
		{authed, "agent", "fruitcam/dev1/belt1/result", true, true},
		{authed, "agent", "fruitcam/dev1/cmd/+", false, true},
		{authed, "agent", "fruitcam/dev2/belt1/result", true, false},
		{authed, "agent", "fruitcam/#", false, false},
		{authed, "agent", "other", true, false},
		{authed, "viewer", "fruitcam/#", false, true},
		{authed, "viewer", "$share/g/fruitcam/#", false, true},
		{authed, "viewer", "$share/g/#", false, false},
		{authed, "viewer", "fruitcam/dev1/status", true, false},
		{authed, "viewer", "fruitcam/dev1/cmd/pause", true, false},
		{authed, "op", "fruitcam/dev1/cmd/pause", true, true},
		{authed, "op", "fruitcam/dev1/cmd/pause/reply", true, false},
		{authed, "op", "fruitcam/dev2/cmd/pause", true, false},
		{authed, "op", "fruitcam/#", false, true},
		{authed, "op", "fruitcam/dev1/config/set", true, true},
		{authed, "op", "fruitcam/fleet/line1/config", true, true},
		{authed, "op", "fruitcam/dev1/config/state", true, false},
		{authed, "agent", "fruitcam/fleet/line1/config", false, true},
		{authed, "agent", "fruitcam/fleet/line1/config", true, false},
		{authed, "agent", "fruitcam/fleet/#", false, false},
		{authed, "viewer", "fruitcam/fleet/line1/config", true, false},
		{anon, "", "fruitcam/fleet/line1/config", true, true},
		{authed, "", "fruitcam/#", false, true}, // refused at CONNECT anyway
		{anon, "", "fruitcam/#", false, true},
		{anon, "", "fruitcam/dev1/cmd/pause", true, true},
		{anon, "", "fruitcam/dev2/status", true, false},
		{anon, "anyone", "#", false, false},
		{anon, "", "$SYS/#", false, false},
	} {
		if got := tc.acl.allowed(tc.user, tc.topic, tc.write); got != tc.want {
			t.Errorf("auth %v, user %q, %s write=%v: got %v, want %v", tc.acl.auth, tc.user, tc.topic, tc.write, got, tc.want)
		}
	}
}

func TestTopics(t *testing.T) {
	tp, err := NewTopics("factory/line1", "dev1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tp.Status(), "factory/line1/dev1/status"; got != want {
		t.Errorf("Status: got %q, want %q", got, want)
	}
	if got, want := defaultClientID(tp.Prefix(), tp.Device()), "factory-line1-dev1"; got != want {
		t.Errorf("client id: got %q, want %q", got, want)
	}
	for _, tc := range []struct {
		topic string
		name  string
		ok    bool
	}{
		{"factory/line1/dev1/cmd/pause", "pause", true},
		{"factory/line1/dev1/cmd/", "", false},
		{"factory/line1/dev1/cmd/pause/reply", "", false},
		{"factory/line1/dev2/cmd/pause", "", false},
	} {
		name, ok := tp.commandName(tc.topic)
		if name != tc.name || ok != tc.ok {
			t.Errorf("commandName(%q): got %q, %v, want %q, %v", tc.topic, name, ok, tc.name, tc.ok)
		}
	}
	for _, bad := range []string{"", "a/b", "a+", "#", "$x", "a\x00", "\xff", string(make([]byte, 129))} {
		if err := CheckLevel("camera", bad); err == nil {
			t.Errorf("CheckLevel(%q): got nil error", bad)
		}
	}
	for _, bad := range []string{"/x", "x/", "a//b", "a/+/b", "$SYS"} {
		if _, err := NewTopics(bad, "dev1"); err == nil {
			t.Errorf("NewTopics(%q): got nil error", bad)
		}
	}
}
