package org.modelpack.csi.pack;

import java.util.Locale;

/** Which identifier family a packed artifact uses: current {@code cncf} or legacy {@code cnai}. */
public enum ModelFamily {
  CNCF,
  CNAI;

  public static ModelFamily of(String name) {
    try {
      return valueOf(name.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("family must be cncf or cnai, got '" + name + "'");
    }
  }

  private String id() {
    return name().toLowerCase(Locale.ROOT);
  }

  public String layerMediaType(String kind, String variant) {
    return "application/vnd." + id() + ".model." + kind + ".v1." + variant;
  }

  public String configMediaType() {
    return "application/vnd." + id() + ".model.config.v1+json";
  }

  public String manifestArtifactType() {
    return "application/vnd." + id() + ".model.manifest.v1+json";
  }

  public String annotation(String suffix) {
    return "org." + id() + ".model." + suffix;
  }
}
