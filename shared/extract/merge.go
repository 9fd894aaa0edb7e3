package extract

// Merge concatenates image lists, dropping an image already listed from the same file,
// document and field path with the same reference. A caller that reads one file both
// as workloads (Images) and for setter markers (Setters) would otherwise report a marked
// container image twice. The image kept first gains the ImagePolicy and Container of
// the dropped duplicate when it had none, so a finding can still name the automation.
func Merge(lists ...[]Image) []Image {
	type key struct {
		file, path, raw string
		doc             int
	}
	n := 0
	for _, l := range lists {
		n += len(l)
	}
	out := make([]Image, 0, n)
	seen := make(map[key]int, n)
	for _, l := range lists {
		for _, img := range l {
			k := key{file: img.Source.File, path: img.Source.FieldPath, raw: img.Raw, doc: img.Source.Document}
			if i, ok := seen[k]; ok {
				kept := &out[i].Source
				if kept.ImagePolicy == "" {
					kept.ImagePolicy = img.Source.ImagePolicy
				}
				if kept.Container == "" {
					kept.Container = img.Source.Container
				}
				continue
			}
			seen[k] = len(out)
			out = append(out, img)
		}
	}
	return out
}
