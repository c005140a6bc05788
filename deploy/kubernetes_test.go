package deploy_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/councilforms/idp/cmd/formapp/formapp"
	"github.com/councilforms/idp/idp/config"
	"github.com/councilforms/idp/idp/provider"
	"github.com/councilforms/idp/idp/server"
)

// object is the part of a Kubernetes object the checks read.
type object struct {
	Kind     string `yaml:"kind"`
	Metadata struct {
		Name string `yaml:"name"`
	} `yaml:"metadata"`
	Data       map[string]string `yaml:"data"`
	StringData map[string]string `yaml:"stringData"`
	Spec       struct {
		Template struct {
			Spec podSpec `yaml:"spec"`
		} `yaml:"template"`
	} `yaml:"spec"`
}

type podSpec struct {
	SecurityContext struct {
		RunAsNonRoot bool `yaml:"runAsNonRoot"`
	} `yaml:"securityContext"`
	TerminationGracePeriodSeconds *int        `yaml:"terminationGracePeriodSeconds"`
	InitContainers                []container `yaml:"initContainers"`
	Containers                    []container `yaml:"containers"`
}

type container struct {
	Name    string   `yaml:"name"`
	Image   string   `yaml:"image"`
	Command []string `yaml:"command"`
	Env     []struct {
		Name      string `yaml:"name"`
		Value     string `yaml:"value"`
		ValueFrom *struct {
			SecretKeyRef struct{ Name, Key string } `yaml:"secretKeyRef"`
		} `yaml:"valueFrom"`
	} `yaml:"env"`
	EnvFrom []struct {
		ConfigMapRef *struct{ Name string } `yaml:"configMapRef"`
		SecretRef    *struct{ Name string } `yaml:"secretRef"`
	} `yaml:"envFrom"`
	ReadinessProbe any `yaml:"readinessProbe"`
	LivenessProbe  any `yaml:"livenessProbe"`
	Lifecycle      struct {
		PreStop *struct {
			Sleep *struct {
				Seconds int `yaml:"seconds"`
			} `yaml:"sleep"`
			Exec *struct {
				Command []string `yaml:"command"`
			} `yaml:"exec"`
		} `yaml:"preStop"`
	} `yaml:"lifecycle"`
	SecurityContext struct {
		ReadOnlyRootFilesystem   bool  `yaml:"readOnlyRootFilesystem"`
		AllowPrivilegeEscalation *bool `yaml:"allowPrivilegeEscalation"`
	} `yaml:"securityContext"`
}

func readManifests(t *testing.T) map[string]object {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in deploy/kubernetes: %v", err)
	}
	objs := map[string]object{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var o object
			if err := dec.Decode(&o); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			if o.Kind == "" || o.Metadata.Name == "" {
				t.Fatalf("%s: an object without kind or name", f)
			}
			objs[o.Kind+"/"+o.Metadata.Name] = o
		}
	}
	return objs
}

// containerEnv resolves a container's environment from its ConfigMaps and
// Secrets, as the kubelet would.
func containerEnv(t *testing.T, objs map[string]object, c container) map[string]string {
	t.Helper()
	env := map[string]string{}
	for _, from := range c.EnvFrom {
		switch {
		case from.ConfigMapRef != nil:
			o, ok := objs["ConfigMap/"+from.ConfigMapRef.Name]
			if !ok {
				t.Fatalf("%s: no ConfigMap %s", c.Name, from.ConfigMapRef.Name)
			}
			for k, v := range o.Data {
				env[k] = v
			}
		case from.SecretRef != nil:
			o, ok := objs["Secret/"+from.SecretRef.Name]
			if !ok {
				t.Fatalf("%s: no Secret %s", c.Name, from.SecretRef.Name)
			}
			for k, v := range o.StringData {
				env[k] = v
			}
		}
	}
	for _, e := range c.Env {
		if e.ValueFrom != nil {
			ref := e.ValueFrom.SecretKeyRef
			v, ok := objs["Secret/"+ref.Name].StringData[ref.Key]
			if !ok {
				t.Fatalf("%s: %s refers to missing secret key %s/%s", c.Name, e.Name, ref.Name, ref.Key)
			}
			env[e.Name] = v
			continue
		}
		env[e.Name] = e.Value
	}
	return env
}

func TestKubernetesSketch(t *testing.T) {
	objs := readManifests(t)
	for _, name := range []string{"Deployment/idp", "Deployment/formapp", "Service/idp", "Service/formapp", "Secret/idp-secrets", "ConfigMap/idp-clients", "Ingress/councilforms"} {
		if _, ok := objs[name]; !ok {
			t.Errorf("no %s in deploy/kubernetes", name)
		}
	}
	for _, name := range []string{"Deployment/idp", "Deployment/formapp"} {
		pod := objs[name].Spec.Template.Spec
		if !pod.SecurityContext.RunAsNonRoot {
			t.Errorf("%s: pods may run as root", name)
		}
		for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
			if !strings.HasPrefix(c.Image, "councilforms/idp") {
				t.Errorf("%s/%s: image %q, want the one councilforms/idp image", name, c.Name, c.Image)
			}
			sc := c.SecurityContext
			if !sc.ReadOnlyRootFilesystem || sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
				t.Errorf("%s/%s: want a read-only root filesystem and no privilege escalation", name, c.Name)
			}
		}
		for _, c := range pod.Containers {
			if c.ReadinessProbe == nil || c.LivenessProbe == nil {
				t.Errorf("%s/%s: want readiness and liveness probes", name, c.Name)
			}
		}
	}

	// The idp accepts its configuration (with a real key in place of the
	// placeholder), and the clients file parses with the idp's own loader.
	idp := objs["Deployment/idp"].Spec.Template.Spec.Containers[0]
	env := containerEnv(t, objs, idp)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env["IDP_KEY_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(key)
	clients := filepath.Join(t.TempDir(), "clients.yaml")
	if err := os.WriteFile(clients, []byte(objs["ConfigMap/idp-clients"].Data["clients.yaml"]), 0o600); err != nil {
		t.Fatal(err)
	}
	if env["IDP_CLIENTS_FILE"] != "/etc/idp/clients.yaml" {
		t.Errorf("IDP_CLIENTS_FILE = %q, want the mounted ConfigMap /etc/idp/clients.yaml", env["IDP_CLIENTS_FILE"])
	}
	env["IDP_CLIENTS_FILE"] = clients
	if env["IDP_VONAGE_PRIVATE_KEY_FILE"] != "/var/run/secrets/vonage/private.key" {
		t.Errorf("IDP_VONAGE_PRIVATE_KEY_FILE = %q, want the mounted Secret /var/run/secrets/vonage/private.key", env["IDP_VONAGE_PRIVATE_KEY_FILE"])
	}
	env["IDP_VONAGE_PRIVATE_KEY_FILE"] = vonageKeyFile(t)
	getenv := func(k string) string { return env[k] }
	cfg, err := config.Load(nil, getenv)
	if err != nil {
		t.Fatalf("the idp refuses the Kubernetes configuration: %v", err)
	}
	if cfg.Dev || cfg.DatabaseKind != config.DatabasePostgres || cfg.RedisURL == "" || !cfg.HTTPS() {
		t.Errorf("idp config: dev=%v database=%s redis=%q https=%v; want production settings", cfg.Dev, cfg.DatabaseKind, cfg.RedisURL, cfg.HTTPS())
	}
	registered, err := provider.LoadClientsFile(clients, getenv, testClientSecrets(t))
	if err != nil {
		t.Fatalf("the idp refuses the clients ConfigMap: %v", err)
	}

	// The form app accepts its configuration and is a registered client.
	fa := objs["Deployment/formapp"].Spec.Template.Spec.Containers[0]
	faEnv := containerEnv(t, objs, fa)
	fcfg, err := formapp.ConfigFromEnv(func(k string) string { return faEnv[k] })
	if err != nil {
		t.Fatalf("the form app refuses the Kubernetes configuration: %v", err)
	}
	if fcfg.Issuer != cfg.Issuer {
		t.Errorf("form app issuer %q, idp issuer %q", fcfg.Issuer, cfg.Issuer)
	}
	found := false
	for _, c := range registered {
		if c.ID == fcfg.ClientID {
			found = true
			if !slices.Contains(c.RedirectURIs, fcfg.RedirectURL) || !slices.Contains(c.PostLogoutRedirectURIs, fcfg.PostLogoutRedirectURL) {
				t.Errorf("client %s does not register the form app's redirect and post-logout URIs", c.ID)
			}
			if c.Public == (fcfg.ClientSecret != "") {
				t.Errorf("client %s public=%v, form app has a secret=%v", c.ID, c.Public, fcfg.ClientSecret != "")
			}
		}
	}
	if !found {
		t.Errorf("the clients ConfigMap does not register %q", fcfg.ClientID)
	}
}

// Stopping an idp pod loses no request: the time Kubernetes leaves before SIGKILL
// covers any preStop sleep, the idp's drain (IDP_SHUTDOWN_DRAIN, read from the
// manifests by the idp's own loader) and the in-flight requests
// (server.ShutdownTimeout), and the drain plus any sleep lasts long enough for the
// endpoint removal to reach the proxies, which Kubernetes does at the same time as it
// sends SIGTERM.
func TestKubernetesStopsTheIdPGracefully(t *testing.T) {
	objs := readManifests(t)
	pod := objs["Deployment/idp"].Spec.Template.Spec
	idp := pod.Containers[0]
	env := containerEnv(t, objs, idp)
	key := make([]byte, 32)
	_, _ = rand.Read(key)
	env["IDP_KEY_ENCRYPTION_KEY"] = base64.StdEncoding.EncodeToString(key)
	env["IDP_CLIENTS_FILE"], env["IDP_VONAGE_PRIVATE_KEY_FILE"] = "", vonageKeyFile(t)
	cfg, err := config.Load(nil, func(k string) string { return env[k] })
	if err != nil {
		t.Fatalf("the idp refuses the Kubernetes configuration: %v", err)
	}

	var sleep time.Duration
	if ps := idp.Lifecycle.PreStop; ps != nil {
		switch {
		case ps.Sleep != nil:
			sleep = time.Duration(ps.Sleep.Seconds) * time.Second
		case ps.Exec != nil && len(ps.Exec.Command) == 2 && ps.Exec.Command[0] == "sleep":
			n, err := strconv.Atoi(ps.Exec.Command[1])
			if err != nil {
				t.Fatalf("preStop %v: not a whole number of seconds", ps.Exec.Command)
			}
			sleep = time.Duration(n) * time.Second
		default:
			t.Fatalf("preStop hook %+v: only a sleep is understood by this check", ps)
		}
	}
	grace := 30 * time.Second // Kubernetes' default
	if pod.TerminationGracePeriodSeconds != nil {
		grace = time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	}
	if need := sleep + cfg.ShutdownDrain + server.ShutdownTimeout; grace <= need {
		t.Errorf("terminationGracePeriodSeconds %s, want more than preStop %s + drain %s + in-flight requests %s = %s",
			grace, sleep, cfg.ShutdownDrain, server.ShutdownTimeout, need)
	}
	// Endpoint removal takes seconds to propagate to kube-proxy and ingress controllers.
	const propagation = 5 * time.Second
	if sleep+cfg.ShutdownDrain < propagation {
		t.Errorf("preStop %s + drain %s: the idp stops accepting before the endpoint removal can reach every proxy (allow %s)",
			sleep, cfg.ShutdownDrain, propagation)
	}
}

// vonageKeyFile writes an application private key as the Vonage dashboard issues it
// (PKCS#8 PEM), standing in for the mounted Secret.
func vonageKeyFile(t *testing.T) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "private.key")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// The metrics have their own port, which Prometheus scrapes on the pods and which
// neither the idp Service the ingress routes to nor the ingress ever names
// (security review finding 15: /metrics was served to anyone on the public port).
func TestKubernetesMetricsStayInside(t *testing.T) {
	type port struct {
		Name          string `yaml:"name"`
		ContainerPort int    `yaml:"containerPort"`
		Port          int    `yaml:"port"`
		TargetPort    any    `yaml:"targetPort"`
	}
	type backend struct {
		Service struct {
			Name string `yaml:"name"`
			Port struct {
				Name   string `yaml:"name"`
				Number int    `yaml:"number"`
			} `yaml:"port"`
		} `yaml:"service"`
	}
	type manifest struct {
		Kind     string `yaml:"kind"`
		Metadata struct {
			Name string `yaml:"name"`
		} `yaml:"metadata"`
		Data map[string]string `yaml:"data"`
		Spec struct {
			Template struct {
				Metadata struct {
					Annotations map[string]string `yaml:"annotations"`
				} `yaml:"metadata"`
				Spec struct {
					Containers []struct {
						Name  string `yaml:"name"`
						Ports []port `yaml:"ports"`
					} `yaml:"containers"`
				} `yaml:"spec"`
			} `yaml:"template"`
			Ports []port `yaml:"ports"`
			Rules []struct {
				HTTP struct {
					Paths []struct {
						Backend backend `yaml:"backend"`
					} `yaml:"paths"`
				} `yaml:"http"`
			} `yaml:"rules"`
			DefaultBackend *backend `yaml:"defaultBackend"`
		} `yaml:"spec"`
	}
	objs := map[string]manifest{}
	files, _ := filepath.Glob("kubernetes/*.yaml")
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		dec := yaml.NewDecoder(bytes.NewReader(b))
		for {
			var m manifest
			if err := dec.Decode(&m); errors.Is(err, io.EOF) {
				break
			} else if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			objs[m.Kind+"/"+m.Metadata.Name] = m
		}
	}

	addr := objs["ConfigMap/idp-config"].Data["IDP_METRICS_ADDR"]
	if addr == "" || strings.EqualFold(addr, "off") {
		t.Fatalf("idp-config sets IDP_METRICS_ADDR %q: want a port Prometheus can reach on the pod, e.g. \":9090\"", addr)
	}
	// The listen addresses as the idp reads them (the rest is checked by TestKubernetesSketch).
	cfg, err := config.LoadAdmin(nil, func(k string) string {
		if k == "IDP_ADDR" || k == "IDP_METRICS_ADDR" {
			return objs["ConfigMap/idp-config"].Data[k]
		}
		return ""
	})
	if err != nil {
		t.Fatalf("idp-config: %v", err)
	}
	_, metricsPort, _ := strings.Cut(cfg.MetricsAddr, ":")
	_, publicPort, _ := strings.Cut(cfg.Addr, ":")

	deploy := objs["Deployment/idp"]
	var metricsName string
	for _, p := range deploy.Spec.Template.Spec.Containers[0].Ports {
		if fmt.Sprint(p.ContainerPort) == metricsPort {
			metricsName = p.Name
		}
	}
	if metricsName == "" {
		t.Errorf("the idp container declares no port %s (IDP_METRICS_ADDR %s)", metricsPort, cfg.MetricsAddr)
	}
	ann := deploy.Spec.Template.Metadata.Annotations
	if ann["prometheus.io/scrape"] != "true" || ann["prometheus.io/port"] != metricsPort || ann["prometheus.io/path"] != "/metrics" {
		t.Errorf("pod annotations %v: want Prometheus to scrape /metrics on port %s", ann, metricsPort)
	}

	// Whatever the ingress routes to, no Service port of it leads to the metrics.
	for name, o := range objs {
		if o.Kind != "Ingress" {
			continue
		}
		var backends []backend
		for _, r := range o.Spec.Rules {
			for _, p := range r.HTTP.Paths {
				backends = append(backends, p.Backend)
			}
		}
		if o.Spec.DefaultBackend != nil {
			backends = append(backends, *o.Spec.DefaultBackend)
		}
		for _, b := range backends {
			svc, ok := objs["Service/"+b.Service.Name]
			if !ok {
				t.Errorf("%s routes to unknown Service %s", name, b.Service.Name)
				continue
			}
			for _, p := range svc.Spec.Ports {
				target := fmt.Sprint(p.TargetPort)
				if target == metricsPort || target == metricsName || (p.TargetPort == nil && fmt.Sprint(p.Port) == metricsPort) {
					t.Errorf("Service %s, which %s routes to, exposes the metrics port (%s)", b.Service.Name, name, target)
				}
			}
			if b.Service.Name == "idp" && b.Service.Port.Name != "http" {
				t.Errorf("%s routes to idp port %+v, want the http port", name, b.Service.Port)
			}
		}
	}
	if metricsPort == publicPort {
		t.Errorf("metrics and public listeners share port %s", publicPort)
	}

	// The Prometheus Operator's PodMonitor scrapes the same port on the idp's pods.
	b, err := os.ReadFile("kubernetes/podmonitor.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var pm struct {
		Kind string `yaml:"kind"`
		Spec struct {
			Selector struct {
				MatchLabels map[string]string `yaml:"matchLabels"`
			} `yaml:"selector"`
			Endpoints []struct {
				Port string `yaml:"port"`
				Path string `yaml:"path"`
			} `yaml:"podMetricsEndpoints"`
		} `yaml:"spec"`
	}
	if err := yaml.Unmarshal(b, &pm); err != nil {
		t.Fatalf("podmonitor.yaml: %v", err)
	}
	if pm.Kind != "PodMonitor" || pm.Spec.Selector.MatchLabels["app.kubernetes.io/name"] != "idp" ||
		len(pm.Spec.Endpoints) != 1 || pm.Spec.Endpoints[0].Port != metricsName || pm.Spec.Endpoints[0].Path != "/metrics" {
		t.Errorf("podmonitor.yaml %+v: want a PodMonitor of the idp pods scraping /metrics on port %q", pm, metricsName)
	}
}

// Operators' finding 12: without IDP_TRUSTED_PROXIES every person appears to come
// from the ingress controller, so the whole county shares one address's budget of
// codes and wrong passwords, and the audit log records the ingress. The sketch
// trusts the pod network the controller runs in, and only private ranges: a
// trusted 0.0.0.0/0 would let anyone claim any address in X-Forwarded-For.
func TestKubernetesTrustsTheIngress(t *testing.T) {
	objs := readManifests(t)
	raw := objs["ConfigMap/idp-config"].Data["IDP_TRUSTED_PROXIES"]
	if raw == "" {
		t.Fatal("idp-config sets no IDP_TRUSTED_PROXIES: every person would share the ingress controller's address")
	}
	// Only this setting as the idp reads it (TestKubernetesSketch loads the rest).
	cfg, err := config.LoadAdmin(nil, func(k string) string {
		if k == "IDP_TRUSTED_PROXIES" {
			return raw
		}
		return ""
	})
	if err != nil {
		t.Fatalf("idp-config: %v", err)
	}
	private := []netip.Prefix{
		netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("172.16.0.0/12"),
		netip.MustParsePrefix("192.168.0.0/16"), netip.MustParsePrefix("fc00::/7"),
	}
	if len(cfg.TrustedProxies) == 0 {
		t.Fatalf("IDP_TRUSTED_PROXIES %q: the idp reads no proxies from it", raw)
	}
	for _, p := range cfg.TrustedProxies {
		inside := false
		for _, r := range private {
			if r.Bits() <= p.Bits() && r.Contains(p.Addr()) {
				inside = true
			}
		}
		if !inside {
			t.Errorf("IDP_TRUSTED_PROXIES trusts %s: want only private ranges the ingress controller runs in", p)
		}
	}
}

// Operators' finding 12: the manifests used councilforms/idp:latest, so a rollback
// could not say what it went back to and the migrate init container could run
// another version than the server. Every image names a tag, never latest, and the
// idp image is one release tag everywhere (the migrate step, the server, the form app).
func TestKubernetesImagesTaggedWithTheVersion(t *testing.T) {
	objs := readManifests(t)
	release := regexp.MustCompile(`^v[0-9]+\.[0-9]+\.[0-9]+(-[0-9A-Za-z.-]+)?$`)
	tags := map[string]bool{}
	for name, o := range objs {
		pod := o.Spec.Template.Spec
		for _, c := range append(slices.Clone(pod.InitContainers), pod.Containers...) {
			repo, tag, ok := imageTag(c.Image)
			if !ok || tag == "latest" {
				t.Errorf("%s/%s: image %q, want an explicit version tag, never latest", name, c.Name, c.Image)
				continue
			}
			if repo == "councilforms/idp" {
				if !release.MatchString(tag) {
					t.Errorf("%s/%s: image %q, want the release tag (vMAJOR.MINOR.PATCH), as `idp version` prints it", name, c.Name, c.Image)
				}
				tags[tag] = true
			}
		}
	}
	if len(tags) != 1 {
		t.Errorf("the idp image has tags %v in the manifests, want one release everywhere", slices.Sorted(maps.Keys(tags)))
	}
}

// imageTag splits an image reference into repository and tag; ok is false when it
// names no tag (which means latest). A digest (@sha256:...) counts as a tag.
func imageTag(image string) (repo, tag string, ok bool) {
	if repo, digest, found := strings.Cut(image, "@"); found {
		return repo, digest, true
	}
	i := strings.LastIndex(image, ":")
	if i < 0 || strings.Contains(image[i:], "/") { // a registry port, not a tag
		return image, "", false
	}
	return image[:i], image[i+1:], true
}
