package org.modelpack.csi.cli;
public final class Main { public static void main(String[] a) { System.out.println(csi.v1.IdentityGrpc.SERVICE_NAME); } }
