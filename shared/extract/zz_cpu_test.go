package extract
import ("fmt";"syscall";"testing";"time")
func cpu() time.Duration { var r syscall.Rusage; syscall.Getrusage(syscall.RUSAGE_SELF, &r); return time.Duration(r.Utime.Nano()+r.Stime.Nano()) }
func TestZZCPU(t *testing.T) {
	data := deploymentStream(benchDeployments)
	c0 := cpu()
	docs, _ := decodeDocs("b", data)
	c1 := cpu()
	for i := 0; i < 5; i++ { Images(docs, nil) }
	c2 := cpu()
	fmt.Printf("decode %v images %v ratio %.3f\n", c1-c0, (c2-c1)/5, float64((c2-c1)/5)/float64(c1-c0))
}
