package severity

import "testing"

func TestParse(t *testing.T) {
	tests := []struct {
		in   string
		want Level
		ok   bool
	}{
		{"CRITICAL", Critical, true}, {" high ", High, true}, {"Medium", Medium, true}, {"low", Low, true},
		{"none", None, true}, {"unknown", Unknown, true},
		{"important", High, true}, {"moderate", Medium, true}, {"negligible", Low, true}, {"minor", Low, true},
		{"severe", Unknown, false}, {"", Unknown, false},
	}
	for _, tt := range tests {
		if got, ok := Parse(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("Parse(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestFromScore(t *testing.T) {
	tests := []struct {
		in   string
		want Level
		ok   bool
	}{
		{"10", Critical, true}, {"9.0", Critical, true}, {"8.9", High, true}, {"7.0", High, true},
		{"6.9", Medium, true}, {"4.0", Medium, true}, {"3.9", Low, true}, {"0.1", Low, true}, {"0.0", None, true},
		{"10.1", Unknown, false}, {"-1", Unknown, false}, {"NaN", Unknown, false},
		{"HIGH", High, true}, {"CVSS:3.1/AV:N/AC:L", Unknown, false},
	}
	for _, tt := range tests {
		if got, ok := FromScore(tt.in); got != tt.want || ok != tt.ok {
			t.Errorf("FromScore(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
	if Critical.String() != "critical" || Level(42).String() != "unknown" {
		t.Errorf("String: %q %q", Critical, Level(42))
	}
	for i := range Names[:len(Names)-1] {
		a, _ := Parse(Names[i])
		b, _ := Parse(Names[i+1])
		if a <= b {
			t.Errorf("Names are not most severe first: %s <= %s", Names[i], Names[i+1])
		}
	}
}
