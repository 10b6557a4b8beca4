enum MaviFSModule {}
