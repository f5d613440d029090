package org.modelpack.csi.config;

/**
 * {@code features.*} keys.
 *
 * @param checkDiskQuota global switch for quota checks
 * @param diskUsageLimitBytes 0 means "use the filesystem's free space"
 */
public record Features(boolean checkDiskQuota, long diskUsageLimitBytes) {}
