package consumer

import (
	"maps"
	"regexp"
	"slices"
)

// Topic is one topic as the group sees it.
type Topic struct {
	// ID is the topic's id, Name its name and Partitions how many
	// partitions it has.
	ID         [16]byte
	Name       string
	Partitions int32
}

// Topics is a read-only view of the node's topics. The caller leaves out
// internal topics such as __consumer_offsets: no member may subscribe to
// them, by name or by regular expression.
type Topics interface {
	// ByName returns the topic of that name, if there is one.
	ByName(name string) (Topic, bool)
	// ByID returns the topic of that id, if there is one.
	ByID(id [16]byte) (Topic, bool)
	// All returns every topic, sorted by name. Regular-expression
	// subscriptions are matched against it.
	All() []Topic
}

// image is what the group knows of the topics its members subscribe to:
// the ones that exist, with their ids and partition counts. A change of
// the image (a subscribed topic created, deleted, recreated or grown)
// bumps the group epoch, as a change of Kafka's subscription metadata
// hash does.
type image struct {
	// topics are the subscribed topics that exist, sorted by name.
	topics []Topic
	// byName indexes topics.
	byName map[string]Topic
	// resolved holds, for each regular expression a member subscribes
	// with, the names of the topics it matches, sorted.
	resolved map[string][]string
}

// equal reports whether two images describe the same topics and matches.
func (im *image) equal(other *image) bool {
	return slices.Equal(im.topics, other.topics) &&
		maps.EqualFunc(im.resolved, other.resolved, slices.Equal)
}

// compileRegex compiles a subscription's regular expression. Kafka
// matches with RE2/J against the whole topic name; Go's regexp is RE2, so
// the expression is anchored at both ends to match the whole name too.
func compileRegex(expr string) (*regexp.Regexp, error) {
	return regexp.Compile(`^(?:` + expr + `)$`)
}

// regex returns the compiled form of a regular expression some member
// subscribes with. Expressions are validated when a member subscribes
// with them, so compiling cannot fail here.
func (g *Group) regex(expr string) *regexp.Regexp {
	re, ok := g.compiled[expr]
	if !ok {
		var err error
		re, err = compileRegex(expr)
		if err != nil {
			panic("consumer: a subscribed regular expression does not compile: " + err.Error())
		}
		g.compiled[expr] = re
	}
	return re
}

// subscribe counts m's subscription in the group's totals.
func (g *Group) subscribe(m *member) {
	for _, name := range m.names {
		g.nameRefs[name]++
	}
	if m.regex != "" {
		g.regexRefs[m.regex]++
	}
	if m.assignor != "" {
		g.assignorRefs[m.assignor]++
	}
}

// unsubscribe removes m's subscription from the group's totals.
func (g *Group) unsubscribe(m *member) {
	for _, name := range m.names {
		if g.nameRefs[name]--; g.nameRefs[name] == 0 {
			delete(g.nameRefs, name)
		}
	}
	if m.regex != "" {
		if g.regexRefs[m.regex]--; g.regexRefs[m.regex] == 0 {
			delete(g.regexRefs, m.regex)
			delete(g.compiled, m.regex)
		}
	}
	if m.assignor != "" {
		if g.assignorRefs[m.assignor]--; g.assignorRefs[m.assignor] == 0 {
			delete(g.assignorRefs, m.assignor)
		}
	}
}

// resolve builds the image of the topics the members subscribe to now.
func (g *Group) resolve(topics Topics) *image {
	im := &image{
		byName:   make(map[string]Topic),
		resolved: make(map[string][]string, len(g.regexRefs)),
	}
	for name := range g.nameRefs {
		if t, ok := topics.ByName(name); ok {
			im.byName[name] = t
		}
	}
	if len(g.regexRefs) > 0 {
		all := topics.All()
		for _, expr := range slices.Sorted(maps.Keys(g.regexRefs)) {
			re := g.regex(expr)
			matched := []string{}
			for _, t := range all {
				if re.MatchString(t.Name) {
					matched = append(matched, t.Name)
					im.byName[t.Name] = t
				}
			}
			im.resolved[expr] = matched
		}
	}
	im.topics = make([]Topic, 0, len(im.byName))
	for _, name := range slices.Sorted(maps.Keys(im.byName)) {
		im.topics = append(im.topics, im.byName[name])
	}
	return im
}

// refreshImage resolves the subscribed topics again and reports whether
// they changed. The names of the topics in the new image are remembered,
// so that assignments can be shown by topic name after a topic is gone.
func (g *Group) refreshImage(topics Topics) bool {
	if topics == nil {
		return false
	}
	im := g.resolve(topics)
	changed := !im.equal(g.image)
	g.image = im
	for _, t := range im.topics {
		g.names[t.ID] = t.Name
	}
	return changed
}

// memberTopics returns the existing topics m subscribes to, by name or
// through its regular expression, sorted by name.
func (g *Group) memberTopics(m *member) []Topic {
	var names []string
	names = append(names, m.names...)
	if m.regex != "" {
		names = append(names, g.image.resolved[m.regex]...)
	}
	slices.Sort(names)
	names = slices.Compact(names)
	out := make([]Topic, 0, len(names))
	for _, name := range names {
		if t, ok := g.image.byName[name]; ok {
			out = append(out, t)
		}
	}
	return out
}

// pruneNames forgets the names of topics that neither the image nor any
// member's current or target assignment mentions any more.
func (g *Group) pruneNames() {
	keep := make(map[topicID]bool)
	for _, t := range g.image.topics {
		keep[t.ID] = true
	}
	for _, m := range g.members {
		for t := range m.assigned {
			keep[t] = true
		}
		for t := range m.revoking {
			keep[t] = true
		}
	}
	for _, a := range g.target {
		for t := range a {
			keep[t] = true
		}
	}
	for id := range g.names {
		if !keep[id] {
			delete(g.names, id)
		}
	}
}

// SubscribedTopics returns the names of the topics some member subscribes
// to now: by name (whether the topic exists or not) or through a regular
// expression (the existing topics it matches). OffsetDelete refuses to
// delete the offsets of such a topic (GROUP_SUBSCRIBED_TO_TOPIC).
func (g *Group) SubscribedTopics(topics Topics) map[string]bool {
	out := make(map[string]bool, len(g.nameRefs))
	for name := range g.nameRefs {
		out[name] = true
	}
	if len(g.regexRefs) > 0 && topics != nil {
		all := topics.All()
		for expr := range g.regexRefs {
			re := g.regex(expr)
			for _, t := range all {
				if re.MatchString(t.Name) {
					out[t.Name] = true
				}
			}
		}
	}
	return out
}
