package org.modelpack.csi.server;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class PublishPathClassesTest {

  @Test
  void everyListedClassExistsSoARenameShowsUpHere() throws Exception {
    assertThat(PublishPathClasses.names()).hasSizeGreaterThan(50)
        .allMatch(n -> n.startsWith("org.modelpack.csi.") || n.startsWith("com."));
    assertThat(PublishPathClasses.load()).isZero();
  }
}
