package controller

import (
	"context"
	"errors"
	"fmt"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/promotion-gate/promotion-gate/shared/policy"
	"github.com/promotion-gate/promotion-gate/shared/trust"
)

// kubeTrust resolves the key and trust material a policy names from the API server:
// secretRef and configMapRef read the object in the policy namespace (a reference to
// another namespace is refused), data is used as given, and file is read under the
// controller's trust directory when one is configured.
type kubeTrust struct {
	// reader reads straight from the API server: neither Secrets nor unlabelled
	// ConfigMaps are in the manager's cache.
	reader    client.Reader
	namespace string
	// files resolves file references; nil rejects them.
	files trust.Resolver
}

// Material implements trust.Resolver.
func (k kubeTrust) Material(ctx context.Context, m policy.Material) ([]byte, error) {
	switch {
	case m.Data != "":
		return []byte(m.Data), nil
	case m.SecretRef != nil:
		return k.object(ctx, &corev1.Secret{}, "Secret", m.SecretRef)
	case m.ConfigMapRef != nil:
		return k.object(ctx, &corev1.ConfigMap{}, "ConfigMap", m.ConfigMapRef)
	case m.File != "":
		if k.files == nil {
			return nil, fmt.Errorf("read file %s: flux-gate reads no key files unless started with --trust-dir; "+
				"use a secretRef or configMapRef instead", m.File)
		}
		return k.files.Material(ctx, m)
	}
	return nil, errors.New("key material is empty: set data, secretRef or configMapRef")
}

func (k kubeTrust) object(ctx context.Context, obj client.Object, kind string, ref *policy.ObjectKeyRef) ([]byte, error) {
	key := types.NamespacedName{Namespace: k.namespace, Name: ref.Name}
	if ref.Namespace != "" && ref.Namespace != k.namespace {
		return nil, fmt.Errorf("%s %s/%s: flux-gate reads trust material only from the policy namespace %s; "+
			"move the %s there and drop the namespace from the reference", kind, ref.Namespace, ref.Name, k.namespace, kind)
	}
	if err := k.reader.Get(ctx, key, obj); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, fmt.Errorf("%s %s not found: create it, or fix the reference in the policy", kind, key)
		}
		return nil, fmt.Errorf("read %s %s: %w", kind, key, err)
	}
	var data []byte
	var ok bool
	switch o := obj.(type) {
	case *corev1.Secret:
		data, ok = o.Data[ref.Key]
	case *corev1.ConfigMap:
		var s string
		if s, ok = o.Data[ref.Key]; ok {
			data = []byte(s)
		} else {
			data, ok = o.BinaryData[ref.Key]
		}
	}
	if !ok {
		return nil, fmt.Errorf("%s %s has no key %q: add it, or fix the key in the policy", kind, key, ref.Key)
	}
	if len(data) > trust.MaxMaterialSize {
		return nil, fmt.Errorf("%s %s key %q is larger than %d bytes; key material is small, check the reference",
			kind, key, ref.Key, trust.MaxMaterialSize)
	}
	return data, nil
}
