package org.modelpack.csi.config;

/**
 * An endpoint tried before a registry itself ({@code pull_config.mirrors}): a mirror, a
 * pull-through cache, or a Dragonfly dfdaemon proxy.
 *
 * @param host {@code host[:port]} of the endpoint
 * @param plainHttp reached over plain HTTP (an {@code http://} endpoint)
 */
public record Mirror(String host, boolean plainHttp) {}
