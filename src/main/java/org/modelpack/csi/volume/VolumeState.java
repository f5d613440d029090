package org.modelpack.csi.volume;

/** Volume states, named as the Go driver names them in status.json. */
public enum VolumeState {
  PULLING,
  PULL_SUCCEEDED,
  PULL_FAILED,
  MOUNTED,
  UMOUNTED
}
